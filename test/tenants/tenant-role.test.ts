import { generateKeyPairSync } from 'node:crypto';
import { defineEvent, defineProjection, silentLogger } from '@annals/core';
import {
  checkpointChain,
  grantTenantRole,
  PostgresCheckpointStore,
  PostgresDeadLetterStore,
  PostgresEventStore,
  PostgresIdempotencyStore,
  PostgresInbox,
  PostgresKeyStore,
  PostgresLeaseStore,
  PostgresProcessStore,
  PostgresProjectionControl,
  PostgresProjectionRunner,
  PostgresSnapshotStore,
  readArchive,
  sealChain,
  verifyChain,
} from '@annals/postgres';
import { expectAnnalsError, toArray } from '@annals/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { withServer } from '../postgres/support/test-database.js';
import { waitFor } from '../support/wait-for.js';
import { connectionAs } from './support/connection-as.js';

// A role per tenant as a second wall: a store opened with acme's role reaches acme's schema only.
const databaseUrl = process.env.DATABASE_URL;
const tag = `tr_${process.pid}`;
const schema = `${tag}_app`;
const roles = { acme: `${tag}_acme`, globex: `${tag}_globex`, none: `${tag}_none` };
const Noted = defineEvent('Noted', {
  version: 1,
  schema: z.object({ n: z.number().int() }),
  tags: (d) => [`n:${d.n}`],
});
const noted = (n: number) => Noted.create({ n });

const globexLog = () =>
  withServer(
    async (c) =>
      (await c.query(`select stream_id, revision from "${schema}_t_globex".events order by position`)).rows,
  );

describe.skipIf(!databaseUrl)('a role per tenant', () => {
  let owner: PostgresEventStore;
  let acme: PostgresEventStore;

  beforeAll(async () => {
    owner = await PostgresEventStore.create(
      { connectionString: databaseUrl!, pool: { max: 2 } },
      { events: [Noted], schema },
    );
    await owner.migrate();
    for (const tenant of ['acme', 'globex'] as const) {
      await owner.forTenant(tenant).migrate();
      await owner.forTenant(tenant).append('seed-1', [noted(0)]);
    }
    await withServer(async (c) => {
      for (const role of Object.values(roles)) await c.query(`create role ${role} login`);
    });
    // #region grant
    // As the schema owner, once the tenant's schema is migrated: an existing role (create role ... login).
    await grantTenantRole(owner, 'acme', roles.acme);
    // The application's store for acme connects as that role and never migrates.
    acme = await PostgresEventStore.create(
      { connectionString: connectionAs(roles.acme) },
      { events: [Noted], schema },
    );
    // #endregion grant
    await grantTenantRole(owner, 'globex', roles.globex);
  });

  afterAll(async () => {
    await acme?.close();
    await owner?.close();
    if (databaseUrl === undefined) return;
    await withServer(async (c) => {
      await c.query(`drop schema if exists "${schema}_t_acme", "${schema}_t_globex", "${schema}" cascade`);
      for (const role of Object.values(roles)) await c.query(`drop role if exists ${role}`);
    });
  });

  it("works on its own tenant: append (with tags), readStream, readAll (by tags too), a live subscription, a projection's checkpoint", async () => {
    const store = acme.forTenant('acme');
    await store.append('order-1', [noted(1), noted(2)], { expectedRevision: 'no_stream' });
    expect((await toArray(store.readStream('order-1'))).map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
    expect((await toArray(store.readAll())).map((e) => e.streamId)).toEqual(['seed-1', 'order-1', 'order-1']);
    const tagged = await toArray(store.readAll({ filter: { query: { items: [{ tags: ['n:2'] }] } } }));
    expect(tagged.map((e) => e.data)).toEqual([{ n: 2 }]);

    const live: string[] = [];
    const subscription = store.subscribeToAll();
    const reading = (async () => {
      for await (const e of subscription) {
        live.push(`${e.streamId}@${e.revision}`);
        if (live.length === 4) break;
      }
    })();
    await store.append('order-2', [noted(3)]);
    await reading;
    expect(live).toEqual(['seed-1@0', 'order-1@0', 'order-1@1', 'order-2@0']);

    const seen: number[] = [];
    const projection = defineProjection({
      name: 'noted-count',
      events: [Noted],
      handlers: { Noted: (e) => void seen.push(e.data.n) },
    });
    const runner = new PostgresProjectionRunner({ store, projections: [projection], logger: silentLogger });
    await runner.start();
    await runner.waitUntilCaughtUp();
    await store.append('order-2', [noted(4)]);
    await waitFor(() => seen.length === 5, 'the projection to see the live event');
    await runner.stop();
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    const checkpoint = await withServer(
      async (c) =>
        (
          await c.query(
            `select position::text from "${schema}_t_acme".checkpoints where name = 'noted-count'`,
          )
        ).rows,
    );
    expect(checkpoint).toHaveLength(1);
  });

  it('seals, checkpoints and verifies the hash chain, and reads the archive, of its own tenant', async () => {
    const store = acme.forTenant('acme');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    expect((await sealChain(store)).sealed).toBeGreaterThan(0);
    await checkpointChain(store, { privateKey });
    expect((await verifyChain(store, { publicKey })).intact).toBe(true);
    expect(await toArray(readArchive(store))).toEqual([]);
  });

  it('is refused on another tenant with PermissionDenied, and writes nothing there', async () => {
    const before = await globexLog();
    const globex = acme.forTenant('globex');
    const refused = await expectAnnalsError(() => globex.append('order-9', [noted(9)]), 'PERMISSION_DENIED');
    expect(refused.message).toContain(`${schema}_t_globex`);
    await expectAnnalsError(() => toArray(globex.readStream('seed-1')), 'PERMISSION_DENIED');
    await expectAnnalsError(() => toArray(globex.readAll()), 'PERMISSION_DENIED');
    await expectAnnalsError(async () => {
      for await (const _ of globex.subscribeToAll()) break;
    }, 'PERMISSION_DENIED');
    // The base schema is the owner's too.
    await expectAnnalsError(() => acme.append('order-9', [noted(9)]), 'PERMISSION_DENIED');
    expect(await globexLog()).toEqual(before);
  });

  it('refuses every store beside the log on another tenant with PermissionDenied', async () => {
    const globex = acme.forTenant('globex');
    const { publicKey } = generateKeyPairSync('ed25519');
    const refusals: [string, () => Promise<unknown>][] = [
      ['checkpoint', () => new PostgresCheckpointStore(globex).load('orders')],
      ['snapshot', () => new PostgresSnapshotStore(globex).load('order-1')],
      ['lease', () => new PostgresLeaseStore(globex).acquire('orders', 'node-a', 10_000)],
      ['projection control', () => new PostgresProjectionControl(globex).isPaused('orders')],
      ['dead letters', () => new PostgresDeadLetterStore(globex).list()],
      ['keys', () => new PostgresKeyStore(globex).rotate('subject-1')],
      ['process', () => new PostgresProcessStore(globex).load('shipping', 'order-1')],
      ['idempotency', () => new PostgresIdempotencyStore(globex).get('command-1')],
      ['inbox', () => new PostgresInbox(globex, { consumer: 'transfers' }).handled('message-1')],
      ['chain', () => verifyChain(globex, { publicKey })],
      ['archive', () => toArray(readArchive(globex))],
    ];
    for (const [name, refused] of refusals) {
      const error = await expectAnnalsError(refused, 'PERMISSION_DENIED').catch((e: unknown) => {
        throw new Error(`${name}: ${String(e)}`);
      });
      expect(error.message, name).toContain('permission denied');
    }
  });

  it('cannot touch the log: no update, delete or truncate of events as the role', async () => {
    const client = new pg.Client({ connectionString: connectionAs(roles.acme) });
    await client.connect();
    try {
      for (const statement of [
        `update "${schema}_t_acme".events set type = 'X'`,
        `delete from "${schema}_t_acme".events`,
        `truncate "${schema}_t_acme".events`,
        `select * from "${schema}".events`,
        `select * from "${schema}_t_acme".tenant_placements`,
      ]) {
        await expect(client.query(statement), statement).rejects.toMatchObject({ code: '42501' });
      }
    } finally {
      await client.end();
    }
  });

  it('a role without the grant cannot read acme', async () => {
    const store = await PostgresEventStore.create(
      { connectionString: connectionAs(roles.none), pool: { max: 1 } },
      { events: [Noted], schema },
    );
    try {
      await expectAnnalsError(
        () => toArray(store.forTenant('acme').readStream('order-1')),
        'PERMISSION_DENIED',
      );
      await expectAnnalsError(
        () => store.forTenant('acme').append('order-1', [noted(7)]),
        'PERMISSION_DENIED',
      );
    } finally {
      await store.close();
    }
  });

  it('checks its input first: nothing is granted on a bad tenant id, role name, unknown role or unmigrated tenant', async () => {
    await expectAnnalsError(() => grantTenantRole(owner, 'Not A Tenant!', roles.none), 'INVALID_TENANT_ID');
    await expectAnnalsError(() => grantTenantRole(owner, 'acme', 'x; drop table y'), 'INVALID_ARGUMENT');
    await expectAnnalsError(() => grantTenantRole(owner, 'acme', `${tag}_missing`), 'INVALID_ARGUMENT');
    await expectAnnalsError(() => grantTenantRole(owner, 'initech', roles.none), 'SCHEMA_NOT_MIGRATED');
    await expectAnnalsError(
      () => grantTenantRole(owner.forTenant('acme'), 'acme', roles.none),
      'INVALID_ARGUMENT',
    );
    const granted = await withServer(
      async (c) =>
        (
          await c.query(
            `select count(*)::int as n from information_schema.role_table_grants where grantee = $1`,
            [roles.none],
          )
        ).rows[0].n,
    );
    expect(granted).toBe(0);
  });
});
