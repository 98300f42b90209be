import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `pnpm test:cli`: the `annals` command line run as a user runs it (test/cli/, each test spawns the
 * binary against PGlite and the server; about three minutes on 2 cores). Excluded from `pnpm test`
 * to keep it under five minutes; CI runs both.
 */
export default mergeConfig(
  { ...base, test: { ...base.test, projects: undefined } },
  defineConfig({
    test: {
      name: 'cli',
      include: ['test/cli/**/*.test.ts'],
      exclude: ['**/node_modules/**', '**/dist/**'],
      testTimeout: 600_000,
    },
  }),
);
