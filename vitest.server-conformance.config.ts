import { apartSuite } from './test/support/apart-suite.js';

/**
 * `pnpm test:server-conformance`: the event store conformance suite on a PostgreSQL server, through
 * the store's own pool (test/conformance/postgres-server-pool.test.ts) and through a caller's Kysely
 * instance (test/conformance/postgres-server-kysely.test.ts). `pnpm test` runs the same suite on
 * memory and PGlite, and every server test beside it; the two server runs took about 130 s of that
 * command's file time (a third of its five minutes), so they run apart (CI runs them). Skipped
 * without DATABASE_URL.
 */
export default apartSuite({
  name: 'server-conformance',
  include: [
    'test/conformance/postgres-server-pool.test.ts',
    'test/conformance/postgres-server-kysely.test.ts',
  ],
});
