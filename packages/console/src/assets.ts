import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono } from 'hono';

/**
 * The front end's build (`vite build`, run by the package's `build` script), shipped in the
 * package: the same folder whether this module runs from `src` or from `dist`.
 */
export const ASSETS_DIR = fileURLToPath(new URL('../dist/web/', import.meta.url));

/** Serves the page and its assets; a plain-text 503 naming the build command when they are missing. */
export function assetRoutes(app: Hono, basePath: string): void {
  // The page's asset URLs are relative: its own URL must end with a slash.
  if (basePath !== '/') {
    app.get('/', async (c, next) => (c.req.path.endsWith('/') ? next() : c.redirect(`${basePath}/`, 301)));
  }
  if (!existsSync(`${ASSETS_DIR}index.html`)) {
    app.get('/*', (c) =>
      c.text(
        `The console's front end is not built (${ASSETS_DIR} is missing): run pnpm --filter @annals/console build.`,
        503,
      ),
    );
    return;
  }
  const strip = (path: string) => (basePath === '/' ? path : path.slice(basePath.length) || '/');
  app.get('/assets/*', serveStatic({ root: ASSETS_DIR, rewriteRequestPath: strip }));
  app.get('/', serveStatic({ root: ASSETS_DIR, path: 'index.html' }));
}
