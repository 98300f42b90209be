import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `pnpm test:dcb`: the append-condition concurrency oracle with many racers (test/dcb/) on memory,
 * PGlite and, with DATABASE_URL, a server. The main suite runs the same oracle with a few racers.
 * Excluded from `pnpm test`.
 */
export default mergeConfig(
  { ...base, test: { ...base.test, projects: undefined } },
  defineConfig({
    test: {
      name: 'dcb',
      include: ['test/dcb/**/*.test.ts'],
      exclude: ['**/node_modules/**', '**/dist/**'],
      fileParallelism: false,
      testTimeout: 300_000,
      hookTimeout: 120_000,
    },
  }),
);
