import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * Builds the console's front end into the package's dist/web, which the server serves and the
 * package ships. Relative asset URLs (`base: './'`) let it work under any mount path.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // The server's Content-Security-Policy allows scripts and styles from the page's origin only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
