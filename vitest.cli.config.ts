import { apartSuite } from './test/support/apart-suite.js';

/**
 * `pnpm test:cli`: the `annals` command line run as a user runs it (test/cli/, each test spawns the
 * binary against PGlite and the server; about three minutes on 2 cores). Excluded from `pnpm test`
 * to keep it under five minutes; CI runs both.
 */
export default apartSuite({
  name: 'cli',
  include: ['test/cli/**/*.test.ts'],
  testTimeout: 600_000,
});
