import { apartSuite } from './test/support/apart-suite.js';

/**
 * `pnpm test:dcb`: the append-condition concurrency oracle with many racers (test/dcb/) on memory,
 * PGlite and, with DATABASE_URL, a server. The main suite runs the same oracle with a few racers.
 * Excluded from `pnpm test`.
 */
export default apartSuite({
  name: 'dcb',
  include: ['test/dcb/**/*.test.ts'],
  fileParallelism: false,
  testTimeout: 300_000,
  hookTimeout: 120_000,
});
