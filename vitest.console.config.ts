import { apartSuite } from './test/support/apart-suite.js';

/**
 * `pnpm test:console`: the web console in headless Chromium (Debian's `chromium`, driven by
 * playwright-core), on PGlite in process and on the server through `annals console`. The global
 * setup builds the front end first. Excluded from `pnpm test`; CI runs it after installing chromium.
 */
export default apartSuite({
  name: 'console',
  include: ['test/console/**/*.test.ts'],
  globalSetup: ['test/support/global-setup.ts', 'test/console/support/build-web.ts'],
  // One browser at a time on 2 cores.
  fileParallelism: false,
  testTimeout: 300_000,
});
