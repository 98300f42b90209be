import { hasErrorCode } from '@annals/core';
import {
  PostgresCheckpointStore,
  PostgresDeadLetterStore,
  PostgresEventStore,
  PostgresIdempotencyStore,
  PostgresInbox,
  PostgresKeyStore,
  PostgresLeaseStore,
  PostgresProcessStore,
  PostgresProjectionControl,
  PostgresSnapshotStore,
} from '@annals/postgres';
import { describe, expect, it } from 'vitest';
import { databaseUrl } from './support/test-database.js';

/** A store that owns its connection: a pg Pool of its own, or a PGlite it opened in memory. */
const owners = [
  [
    'a server store (its own pool)',
    databaseUrl === undefined ? undefined : { connectionString: databaseUrl },
  ],
  ['a PGlite store (a PGlite it opened)', { pglite: 'memory://' }],
] as const;

// The components built on a store's connection, used after the store closed the connection it owned:
// each call rejects with StoreClosed, never with the driver's "driver has already been destroyed".
describe.each(owners)('components of %s, once it is closed', (_, connection) => {
  it.skipIf(connection === undefined)('every call rejects with StoreClosed (STORE_CLOSED)', async () => {
    const store = await PostgresEventStore.create(connection!);
    await store.migrate();
    await store.close();
    const calls: [string, () => Promise<unknown>][] = [
      ['PostgresCheckpointStore.load', () => new PostgresCheckpointStore(store).load('p')],
      ['PostgresDeadLetterStore.list', () => new PostgresDeadLetterStore(store).list()],
      ['PostgresLeaseStore.get', () => new PostgresLeaseStore(store).get('p')],
      ['PostgresProjectionControl.listPaused', () => new PostgresProjectionControl(store).listPaused()],
      ['PostgresSnapshotStore.load', () => new PostgresSnapshotStore(store).load('s')],
      ['PostgresKeyStore.rotate', () => new PostgresKeyStore(store).rotate('subject-1')],
      ['PostgresProcessStore.outcome', () => new PostgresProcessStore(store).outcome('c')],
      ['PostgresProcessStore.prune', () => new PostgresProcessStore(store).prune({ olderThanMs: 0 })],
      ['PostgresInbox.handled', () => new PostgresInbox(store, { consumer: 'c' }).handled('m')],
      ['PostgresIdempotencyStore.get', () => new PostgresIdempotencyStore(store).get('c')],
    ];
    for (const [name, call] of calls) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(hasErrorCode(error, 'STORE_CLOSED'), `${name}: ${String(error)}`).toBe(true);
    }
  });
});
