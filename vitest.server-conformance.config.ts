import { apartSuite } from './test/support/apart-suite.js';

/**
 * `pnpm test:server-kysely`: the event store conformance suite on a PostgreSQL server through a
 * caller's Kysely instance (test/conformance/postgres-server-kysely.test.ts). The same suite runs in
 * `pnpm test` on the server through the store's own pool and on PGlite; this third run of it took
 * about 30 s of that command's five minutes, so it runs apart (CI runs it). Skipped without
 * DATABASE_URL.
 */
export default apartSuite({
  name: 'server-kysely',
  include: ['test/conformance/postgres-server-kysely.test.ts'],
});
