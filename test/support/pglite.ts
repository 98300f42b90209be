import { readFile } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A tarball of a freshly initialised PGlite data directory (see test/support/global-setup.ts). */
    pgliteTemplate: string | undefined;
  }
}

let template: Promise<Blob | undefined> | undefined;

/**
 * A fresh in-memory PGlite for a test file. It starts from the data directory the global setup
 * initialised once (a copy: nothing a file writes reaches another), which takes a fraction of the
 * seconds a `PGlite.create()` that runs initdb costs. Outside vitest's global setup it starts empty.
 * Start one per file (in `beforeAll`), not one per case, and close it in `afterAll`.
 */
export async function startPGlite(): Promise<PGlite> {
  template ??= loadTemplate();
  const loadDataDir = await template;
  return loadDataDir === undefined ? PGlite.create() : PGlite.create({ loadDataDir });
}

async function loadTemplate(): Promise<Blob | undefined> {
  let path: string | undefined;
  try {
    path = inject('pgliteTemplate');
  } catch {
    return undefined; // not run by vitest with the global setup
  }
  if (path === undefined) return undefined;
  return new Blob([await readFile(path)]);
}
