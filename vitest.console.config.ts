import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `pnpm test:console`: the web console in headless Chromium (Debian's `chromium`, driven by
 * playwright-core), on PGlite in process and on the server through `annals console`. The global
 * setup builds the front end first. Excluded from `pnpm test`; CI runs it after installing chromium.
 */
export default mergeConfig(
  { ...base, test: { ...base.test, projects: undefined } },
  defineConfig({
    test: {
      name: 'console',
      include: ['test/console/**/*.test.ts'],
      exclude: ['**/node_modules/**', '**/dist/**'],
      globalSetup: ['test/support/global-setup.ts', 'test/console/support/build-web.ts'],
      // One browser at a time on 2 cores.
      fileParallelism: false,
      testTimeout: 300_000,
    },
  }),
);
