import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `pnpm test:crash`: processes killed with SIGKILL mid-command (test/crash/), each a separate Node
 * process started through tsx, on the PostgreSQL server of DATABASE_URL. Excluded from `pnpm test`.
 */
export default mergeConfig(
  { ...base, test: { ...base.test, projects: undefined } },
  defineConfig({
    test: {
      name: 'crash',
      include: ['test/crash/**/*.test.ts'],
      exclude: ['**/node_modules/**', '**/dist/**'],
      fileParallelism: false,
      testTimeout: 300_000,
      hookTimeout: 120_000,
    },
  }),
);
