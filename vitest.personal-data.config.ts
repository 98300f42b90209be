import { apartSuite } from './test/support/apart-suite.js';

/**
 * `pnpm test:personal-data`: crypto-shredding end to end (test/personal-data/): the bank example on
 * PGlite, an account holder forgotten, every projection rebuilt from zero and every table scanned for
 * the name; and the key stores' conformance on PGlite and the server (DATABASE_URL). About a minute.
 * Excluded from `pnpm test` (the personal-data conformance group of every store runs there).
 */
export default apartSuite({
  name: 'personal-data',
  include: ['test/personal-data/**/*.test.ts'],
  testTimeout: 300_000,
});
