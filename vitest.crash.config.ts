import { apartSuite } from './test/support/apart-suite.js';

/**
 * `pnpm test:crash`: processes killed with SIGKILL mid-command (test/crash/), each a separate Node
 * process started through tsx, on the PostgreSQL server of DATABASE_URL. Excluded from `pnpm test`.
 */
export default apartSuite({
  name: 'crash',
  include: ['test/crash/**/*.test.ts'],
  fileParallelism: false,
  testTimeout: 300_000,
  hookTimeout: 120_000,
});
