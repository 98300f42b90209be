import { apartSuite } from './test/support/apart-suite.js';

/**
 * `pnpm test:example`: the bank example end to end, as a newcomer runs it: the scenario on every
 * store, the `example` command spawned on PGlite folders it creates from nothing (twice, to show a
 * second run resuming), and `--reset`. Each PGlite folder takes 5-20 s to initialise, which made these
 * the two slowest files of `pnpm test`; excluded from it, run by CI.
 */
export default apartSuite({
  name: 'example',
  include: ['test/example/bank-account.test.ts', 'test/example/reset.test.ts'],
  testTimeout: 300_000,
});
