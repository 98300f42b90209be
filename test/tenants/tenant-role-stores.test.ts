import {
  grantTenantRole,
  PostgresCheckpointStore,
  PostgresDeadLetterStore,
  PostgresEventStore,
  PostgresIdempotencyStore,
  PostgresInbox,
  PostgresKeyStore,
  PostgresLeasedCheckpointStore,
  PostgresLeaseStore,
  PostgresProcessStore,
  PostgresProjectionControl,
  PostgresSnapshotStore,
} from '@annals/postgres';
import {
  runCheckpointStoreConformance,
  runDeadLetterStoreConformance,
  runKeyStoreConformance,
  runLeasedCheckpointStoreConformance,
  runProjectionControlConformance,
  runSnapshotStoreConformance,
  runTimerStoreConformance,
} from '@annals/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withServer } from '../postgres/support/test-database.js';
import { connectionAs } from './support/connection-as.js';

// Every store beside the event log, run through its conformance cases on a tenant handle opened with
// the tenant's role: what grantTenantRole grants is enough for checkpoints, leases, projection
// control, dead letters, snapshots, personal-data keys, process managers' timers, idempotency, inbox.
const databaseUrl = process.env.DATABASE_URL;
const tag = `trs_${process.pid}`;
const schema = `${tag}_app`;
const role = `${tag}_role`;
let owner: PostgresEventStore;
const roleStores: PostgresEventStore[] = [];
let tenants = 0;

/** Runs `statements` as the superuser, in order. */
function superuser(statements: readonly string[]): Promise<void> {
  return withServer(async (client) => {
    for (const statement of statements) await client.query(statement);
  });
}

/** A store opened with the tenant role's connection (migrate never called), closed after the file. */
async function openAsRole(): Promise<PostgresEventStore> {
  const store = await PostgresEventStore.create(
    { connectionString: connectionAs(role), pool: { max: 3 } },
    { schema },
  );
  roleStores.push(store);
  return store;
}

/** A fresh tenant, migrated and granted by the owner, as seen through a store of the tenant role. */
async function tenantHandle(): Promise<PostgresEventStore> {
  const id = `t${++tenants}`;
  await owner.forTenant(id).migrate();
  await grantTenantRole(owner, id, role);
  const store = roleStores[0] ?? (await openAsRole());
  return store.forTenant(id);
}

/** The same tenant through another pool of the role (another node). */
async function peerOf(handle: PostgresEventStore): Promise<PostgresEventStore> {
  return (await openAsRole()).forTenant(handle.tenantId!);
}

const handleOf = new WeakMap<object, PostgresEventStore>();
function remember<T extends object>(store: T, handle: PostgresEventStore): T {
  handleOf.set(store, handle);
  return store;
}

if (databaseUrl !== undefined) {
  beforeAll(async () => {
    owner = await PostgresEventStore.create({ connectionString: databaseUrl, pool: { max: 2 } }, { schema });
    await owner.migrate();
    await superuser([`create role ${role} login`]);
  });
  afterAll(async () => {
    for (const store of roleStores) await store.close();
    await owner?.close();
    const schemas = Array.from({ length: tenants }, (_, i) => `"${schema}_t_t${i + 1}"`);
    await superuser([
      `drop schema if exists ${[...schemas, `"${schema}"`].join(', ')} cascade`,
      `drop role if exists ${role}`,
    ]);
  });

  describe('stores on a tenant handle of a tenant role', () => {
    runSnapshotStoreConformance({
      name: 'PostgresSnapshotStore',
      createSnapshotStore: async () => new PostgresSnapshotStore(await tenantHandle()),
    });
    runCheckpointStoreConformance({
      name: 'PostgresCheckpointStore',
      createCheckpointStore: async () => new PostgresCheckpointStore(await tenantHandle()),
    });
    runDeadLetterStoreConformance({
      name: 'PostgresDeadLetterStore',
      createDeadLetterStore: async () => new PostgresDeadLetterStore(await tenantHandle()),
    });
    runProjectionControlConformance({
      name: 'PostgresProjectionControl',
      createControls: async () => {
        const first = await tenantHandle();
        return [new PostgresProjectionControl(first), new PostgresProjectionControl(await peerOf(first))];
      },
    });
    runLeasedCheckpointStoreConformance({
      name: 'PostgresLeasedCheckpointStore',
      createStores: async () => {
        const handle = await tenantHandle();
        return {
          leases: new PostgresLeaseStore(handle),
          checkpoints: new PostgresLeasedCheckpointStore(handle),
        };
      },
    });
    runKeyStoreConformance({
      name: 'PostgresKeyStore',
      createKeyStore: async () => {
        const handle = await tenantHandle();
        return remember(new PostgresKeyStore(handle), handle);
      },
      openPeer: async (keys) => new PostgresKeyStore(await peerOf(handleOf.get(keys)!)),
    });
    runTimerStoreConformance({
      name: 'PostgresProcessStore',
      createStore: async () => {
        const handle = await tenantHandle();
        return remember(new PostgresProcessStore(handle), handle);
      },
      openPeer: async (processes) => new PostgresProcessStore(await peerOf(handleOf.get(processes)!)),
    });

    it('deletes a checkpoint', async () => {
      const checkpoints = new PostgresCheckpointStore(await tenantHandle());
      await checkpoints.save('orders', 4n, { expected: undefined });
      await checkpoints.delete('orders');
      expect(await checkpoints.load('orders')).toBeUndefined();
    });

    it('records commands once (idempotency store) and messages once (inbox)', async () => {
      const handle = await tenantHandle();
      const idempotency = new PostgresIdempotencyStore(handle);
      let runs = 0;
      const command = { commandType: 'Pay', payload: '{"amount":1}' };
      const run = () => idempotency.runOnce('command-1', command, async () => ++runs);
      expect((await run()).result).toBe(1);
      expect((await run()).result).toBe(1);
      expect(runs).toBe(1);
      const inbox = new PostgresInbox(handle, { consumer: 'transfers' });
      expect(await inbox.handle('message-1', async () => {})).toBe(true);
      expect(await inbox.handle('message-1', async () => {})).toBe(false);
      expect(await inbox.handled('message-1')).toBe(true);
    });
  });
}
