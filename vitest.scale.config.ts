import { apartSuite } from './test/support/apart-suite.js';

/**
 * `pnpm test:scale`: tenants over several PostgreSQL clusters (test/scale/). It creates three
 * clusters of its own with pg_createcluster on ports 5440-5442 (`SCALE_PORT_BASE` moves them; run as
 * root on a Debian/Ubuntu PostgreSQL install), runs six application nodes as child processes, stops
 * one cluster hard and starts it again, and drops the clusters at the end. Excluded from `pnpm test`.
 */
export default apartSuite({
  name: 'scale',
  include: ['test/scale/**/*.test.ts'],
  fileParallelism: false,
  testTimeout: 900_000,
  hookTimeout: 300_000,
});
