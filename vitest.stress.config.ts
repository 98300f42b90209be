import { apartSuite } from './test/support/apart-suite.js';

/**
 * `pnpm test:stress`: the ordering stress tests on a PostgreSQL server (test/postgres-stress/):
 * out-of-order commits, a killed backend, concurrent writers, long transactions, a transaction's
 * full position range. They hold transactions open on the shared server, which (by design) stalls
 * every reader of the global log in the cluster, so they run one file at a time, apart from
 * `pnpm test` (whose time they doubled at the end of the run). Skipped without DATABASE_URL.
 */
export default apartSuite({
  name: 'postgres-stress',
  include: ['test/postgres-stress/**/*.test.ts'],
  fileParallelism: false,
  // Their waits are bounded only to catch a hang (15-20 s each, several per test); the test
  // itself must outlast the sum of them on a loaded machine.
  testTimeout: 180_000,
});
