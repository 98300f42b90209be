import { apartSuite } from './test/support/apart-suite.js';

/**
 * `pnpm test:outage`: the outage test alone (test/outage/). It creates a PostgreSQL cluster of its
 * own with pg_createcluster (run as root, on a Debian/Ubuntu PostgreSQL install), restarts it and
 * stops it hard for 10 s and 60 s, and drops it at the end. Excluded from `pnpm test`.
 */
export default apartSuite({
  name: 'outage',
  include: ['test/outage/**/*.test.ts'],
  fileParallelism: false,
  testTimeout: 900_000,
  hookTimeout: 120_000,
});
