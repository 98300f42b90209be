import { apartSuite } from './test/support/apart-suite.js';

/**
 * `pnpm test:process`: the crash tests of process managers (test/process-crash/): bank nodes in
 * child processes on the PostgreSQL server (DATABASE_URL), killed with SIGKILL between every pair
 * of steps, two at once; a few minutes on 2 cores. Excluded from `pnpm test`.
 */
export default apartSuite({
  name: 'process',
  include: ['test/process-crash/**/*.test.ts'],
  fileParallelism: false,
  testTimeout: 600_000,
});
