import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `pnpm test:personal-data`: crypto-shredding end to end (test/personal-data/): the bank example on
 * PGlite, an account holder forgotten, every projection rebuilt from zero and every table scanned for
 * the name; and the key stores' conformance on PGlite and the server (DATABASE_URL). About a minute.
 * Excluded from `pnpm test` (the personal-data conformance group of every store runs there).
 */
export default mergeConfig(
  { ...base, test: { ...base.test, projects: undefined } },
  defineConfig({
    test: {
      name: 'personal-data',
      include: ['test/personal-data/**/*.test.ts'],
      exclude: ['**/node_modules/**', '**/dist/**'],
      testTimeout: 300_000,
    },
  }),
);
