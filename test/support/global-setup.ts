import { randomUUID } from 'node:crypto';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { TestProject } from 'vitest/node';
import { ownDatabases } from '../example/support/own-database.js';

const notices = globalThis as { annalsSkipNoticeShown?: boolean };

/**
 * Once per run: initialises a PGlite data directory (initdb, the slow part of `PGlite.create()`)
 * and hands its tarball to every test file through `inject('pgliteTemplate')`, so each file starts
 * its own PGlite from a copy (test/support/pglite.ts). The tarball is kept in the system temp
 * folder per PGlite version, so later runs skip initdb too; it is never written to the working
 * directory. With DATABASE_URL set, makes the example tests' databases before the run and drops
 * them after it (`inject('ownDatabases')`); without it, says once why the server tests are skipped.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  project.provide('pgliteTemplate', await pgliteTemplate());
  const serverUrl = process.env.DATABASE_URL;
  if (serverUrl) {
    const databases = await ownDatabases(serverUrl);
    project.provide('ownDatabases', databases.urls);
    return databases.drop;
  }
  project.provide('ownDatabases', undefined);
  if (notices.annalsSkipNoticeShown !== true) {
    notices.annalsSkipNoticeShown = true;
    console.log(SKIP_NOTICE);
    // Repeated after the summary, where the skipped count is.
    return async () => console.log(SKIP_NOTICE);
  }
  return async () => {};
}

const SKIP_NOTICE =
  '[annals] DATABASE_URL is not set: the tests that need a PostgreSQL server (' +
  'the server groups of test/postgres, test/conformance and test/projections, the example on a server) ' +
  'are skipped; PGlite and in-memory tests ran. ' +
  'Set DATABASE_URL=postgres://user@host:5432/db to run them too.';

async function pgliteTemplate(): Promise<string> {
  const version = await pgliteVersion();
  const path = join(tmpdir(), `annals-test-pglite-${version}.tar`);
  if (await usable(path)) return path;
  const pglite = await PGlite.create();
  try {
    const dump = await pglite.dumpDataDir('none');
    // Written under another name and renamed: a concurrent run never reads half a file.
    const partial = `${path}.${randomUUID()}`;
    await writeFile(partial, new Uint8Array(await dump.arrayBuffer()));
    await rename(partial, path);
  } finally {
    await pglite.close();
  }
  return path;
}

async function usable(path: string): Promise<boolean> {
  try {
    return (await stat(path)).size > 0 && (await readFile(path)).subarray(257, 262).toString() === 'ustar';
  } catch {
    return false;
  }
}

/** The installed PGlite's version (its package does not export package.json: found next to its entry). */
async function pgliteVersion(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const manifest = JSON.parse(await readFile(join(dirname(entry), '..', 'package.json'), 'utf8'));
  return String(manifest.version);
}
