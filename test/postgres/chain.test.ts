import { generateKeyPairSync } from 'node:crypto';
import { InMemoryEventStore } from '@annals/core';
import {
  annalsMigrations,
  archiveStream,
  type ChainBreak,
  type ChainCheckpoint,
  checkpointChain,
  listChainCheckpoints,
  PostgresEventStore,
  sealChain,
  verifyChain,
} from '@annals/postgres';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait-for.js';
import { migrateStoreTo } from './support/migrate-to.js';
import { type TargetName, targets, useTestDatabase } from './support/test-database.js';

const db = useTestDatabase('chain');
const { privateKey, publicKey } = generateKeyPairSync('ed25519');

/**
 * Seals until `count` events are sealed in all, and no more. Sealing stops at the read horizon, which
 * any transaction open in the cluster holds a moment (other test files share the server).
 */
async function sealUntil(store: PostgresEventStore, count: number): Promise<void> {
  let sealed = 0;
  await waitFor(async () => {
    sealed += (await sealChain(store)).sealed;
    return sealed >= count;
  }, `${count} events sealed`);
  expect(sealed, 'events sealed').toBe(count);
}

interface StoredEvent {
  readonly position: string;
  readonly stream_id: string;
  readonly revision: string;
}

describe.each(targets)('event chain (%s)', (target) => {
  /** A store holding 3 streams of 4 events each, appended in batches, sealed and checkpointed. */
  async function sealedLog(): Promise<PostgresEventStore> {
    const store = await db.open(target);
    for (const round of [0, 1]) {
      for (const stream of ['account-1', 'account-2', 'account-3']) {
        await store.append(stream, [
          { type: 'Deposited', data: { amount: round * 10 + 1, note: 'é ✓' }, metadata: { by: 'teller' } },
          { type: 'Withdrawn', data: { amount: round * 10 + 2 } },
        ]);
      }
    }
    await sealUntil(store, 12);
    await checkpointChain(store, { privateKey });
    return store;
  }

  /** Runs statements as a superuser who has switched the append-only triggers off. */
  async function tamper(store: PostgresEventStore, ...statements: string[]): Promise<void> {
    const s = `"${store.schema}"`;
    const tables = ['events', 'event_chain', 'event_chain_checkpoints'];
    for (const t of tables) await db.raw(target, `alter table ${s}.${t} disable trigger user`);
    for (const statement of statements) await db.raw(target, statement.replaceAll('$s', s));
    for (const t of tables) await db.raw(target, `alter table ${s}.${t} enable trigger user`);
  }

  async function events(store: PostgresEventStore): Promise<StoredEvent[]> {
    return db.raw<StoredEvent>(
      target,
      `select position::text as position, stream_id, revision::text as revision from "${store.schema}".events order by position`,
    );
  }

  const pinpoint = (event: StoredEvent, reason: ChainBreak['reason']) => ({
    reason,
    position: BigInt(event.position),
    streamId: event.stream_id,
    revision: BigInt(event.revision),
  });

  it('an untouched log verifies: every event sealed, the checkpoint signed; sealing again seals nothing', async () => {
    const store = await sealedLog();
    expect(await sealChain(store)).toMatchObject({ sealed: 0 });
    const report = await verifyChain(store, { publicKey, batchSize: 5 });
    const all = await events(store);
    expect(report).toMatchObject({ intact: true, events: 12, sealed: 12, unsealed: 0, checkpoints: 1 });
    expect(report.signedUpTo).toBe(BigInt(all.at(-1)!.position));
    expect(report.head?.position).toBe(BigInt(all.at(-1)!.position));
    // Appended after the seal: walked, reported unsealed, not a break.
    await store.append('account-4', [{ type: 'Opened', data: {} }]);
    // Walked once no other session's open transaction holds the horizon below it.
    let after: Awaited<ReturnType<typeof verifyChain>> | undefined;
    await waitFor(
      async () => (after = await verifyChain(store, { publicKey })).events === 13,
      'the 13th event walked',
    );
    expect(after).toMatchObject({ intact: true, events: 13, unsealed: 1 });
  });

  it('the job and the audit shown in docs/data-protection.md', async () => {
    const store = await db.open(target);
    await store.append('account-1', [{ type: 'Opened', data: { owner: 'Ada' } }]);
    const published: ChainCheckpoint[] = [];
    let sealedInAll = 0;
    // The job runs until the event is sealed: another session's transaction may hold the horizon.
    await waitFor(async () => {
      // #region chain-job
      // Every few minutes, on any node (several at once are safe): seal, then sign the head.
      const { sealed } = await sealChain(store);
      const checkpoint = await checkpointChain(store, { privateKey });
      // Publish the checkpoint where the database's administrators cannot rewrite it.
      if (checkpoint !== undefined) published.push(checkpoint);
      // #endregion chain-job
      sealedInAll += sealed;
      return sealedInAll === 1;
    }, 'the appended event sealed');
    const checkpoint = published.at(-1);
    expect(published, 'one checkpoint, over the sealed event').toHaveLength(1);
    // #region chain-audit
    // An auditor holding the public key and the published checkpoints:
    const report = await verifyChain(store, { publicKey, checkpoints: published });
    if (!report.intact) throw new Error(report.broken!.message);
    // #endregion chain-audit
    expect(report).toMatchObject({ intact: true, checkpoints: 2, signedUpTo: checkpoint!.position });
  });

  it('a log written before 0010_event_chain upgrades and is sealed whole, oldest event first', async () => {
    const schema = db.schema(target);
    const store = await PostgresEventStore.create(db.connection(target), { schema });
    try {
      expect((await migrateStoreTo(store, '0007_process_timers')).error).toBeUndefined();
      // Rows as the 0007 schema held them (the store refuses to append before it is migrated).
      await db.raw(
        target,
        `with tx as (select pg_current_xact_id() as xid),
           s as (insert into "${schema}".streams (stream_id, category, revision, last_position)
             select 'old-1', 'old', 1, ((xid::text::bigint) << 20) + 1 from tx)
         insert into "${schema}".events (position, transaction_id, stream_id, revision, id, type, schema_version, data, metadata)
         select ((xid::text::bigint) << 20) + r, xid, 'old-1', r, gen_random_uuid(), 'Old', 1, '{}', '{}'
         from tx, generate_series(0, 1) r`,
      );
      // Every migration after 0007 runs, in order.
      expect((await store.migrate()).applied).toEqual(
        Object.keys(annalsMigrations(schema))
          .sort()
          .filter((name) => name > '0007_process_timers'),
      );
      await sealUntil(store, 2);
      expect(await verifyChain(store, { publicKey })).toMatchObject({ intact: true, sealed: 2 });
    } finally {
      await store.close();
    }
  });

  it('an UPDATE of one event’s data is found at that event', async () => {
    const store = await sealedLog();
    const target7 = (await events(store))[6]!;
    await tamper(
      store,
      `update $s.events set data = '{"amount": 1000}' where position = ${target7.position}`,
    );
    const report = await verifyChain(store, { publicKey, batchSize: 4 });
    expect(report.intact).toBe(false);
    expect(report.broken).toMatchObject(pinpoint(target7, 'altered'));
    expect(report.broken?.message).toContain(`stream ${target7.stream_id}, revision ${target7.revision}`);
    expect(report.events).toBe(6);
  });

  it('an UPDATE of one event’s tags is found at that event', async () => {
    const store = await sealedLog();
    const target3 = (await events(store))[2]!;
    await tamper(
      store,
      `update $s.events set tags = array['course:forged'] where position = ${target3.position}`,
    );
    const report = await verifyChain(store, { publicKey, batchSize: 4 });
    expect(report.broken, 'tags are part of what the chain covers').toMatchObject(
      pinpoint(target3, 'altered'),
    );
  });

  it('archived events stay in the chain: a log with an archived stream verifies, and an edit in the archive is found', async () => {
    const store = await sealedLog();
    expect(await archiveStream(store, 'account-2')).toEqual({ events: 4 });
    expect(await verifyChain(store, { publicKey }), 'the chain after archiving a stream').toMatchObject({
      intact: true,
      events: 12,
    });
    const [archived] = await db.raw<StoredEvent>(
      target,
      `select position::text as position, stream_id, revision::text as revision from "${store.schema}".events_archive order by position limit 1`,
    );
    await db.raw(target, `alter table "${store.schema}".events_archive disable trigger user`);
    await db.raw(
      target,
      `update "${store.schema}".events_archive set data = '{"amount": 7}' where position = ${archived!.position}`,
    );
    await db.raw(target, `alter table "${store.schema}".events_archive enable trigger user`);
    const report = await verifyChain(store, { publicKey });
    expect(report.broken, 'an archived event edited').toMatchObject(pinpoint(archived!, 'altered'));
  });

  it('a DELETE of one event is found at its position, with its stream and revision, also when its chain row goes too', async () => {
    const store = await sealedLog();
    const all = await events(store);
    await tamper(store, `delete from $s.events where position = ${all[4]!.position}`);
    expect((await verifyChain(store, { publicKey })).broken).toMatchObject(pinpoint(all[4]!, 'missing'));
    await tamper(store, `delete from $s.event_chain where position = ${all[4]!.position}`);
    expect((await verifyChain(store, { publicKey, batchSize: 3 })).broken).toMatchObject({
      reason: 'missing',
      position: BigInt(all[4]!.position),
    });
  });

  it('a swapped pair of events is found at the first of the pair', async () => {
    const store = await sealedLog();
    const all = await events(store);
    // Two events of one batch (one transaction): their positions are exchanged.
    const [a, b] = [all[2]!, all[3]!];
    const spare = BigInt(a.position) + 1000n;
    await tamper(
      store,
      `update $s.events set position = ${spare} where position = ${a.position}`,
      `update $s.events set position = ${a.position} where position = ${b.position}`,
      `update $s.events set position = ${b.position} where position = ${spare}`,
    );
    const report = await verifyChain(store, { publicKey });
    expect(report.broken).toMatchObject({ reason: 'altered', position: BigInt(a.position) });
    // What is at that position now is the other event of the pair.
    expect(report.broken).toMatchObject({ streamId: b.stream_id, revision: BigInt(b.revision) });
  });

  it('a re-chained tail (hashes recomputed, no signing key) is found by the checkpoint, between the last good one and it', async () => {
    const store = await sealedLog();
    const first = (await listChainCheckpoints(store))[0]!;
    for (const stream of ['account-1', 'account-2']) {
      await store.append(stream, [{ type: 'Deposited', data: { amount: 5 } }]);
    }
    await sealUntil(store, 2);
    const published = [first, (await checkpointChain(store, { privateKey }))!];
    const all = await events(store);
    const victim = all[12]!; // the first event after the first checkpoint
    // The attacker edits an event, drops the chain from it on, and seals again: every stored hash holds.
    await tamper(
      store,
      `update $s.events set data = '{"amount": 5000}' where position = ${victim.position}`,
      `delete from $s.event_chain where position >= ${victim.position}`,
    );
    await sealUntil(store, 2);
    const report = await verifyChain(store, { publicKey });
    expect(report.broken).toMatchObject({
      reason: 'checkpoint',
      position: published[1]!.position,
      after: published[0]!.position,
    });
    expect(BigInt(victim.position)).toBeGreaterThan(report.broken!.after!);
    expect(BigInt(victim.position)).toBeLessThanOrEqual(report.broken!.position);
    // Deleting the stored checkpoint too: the stored chain then only signs up to the first one,
    // and the published checkpoints still find the rewrite.
    await tamper(store, `delete from $s.event_chain_checkpoints where position > ${first.position}`);
    const storedOnly = await verifyChain(store, { publicKey });
    expect(storedOnly).toMatchObject({ intact: true, signedUpTo: first.position });
    expect(await verifyChain(store, { publicKey, checkpoints: published })).toMatchObject({
      intact: false,
      broken: { reason: 'checkpoint', position: published[1]!.position },
    });
    // An event altered since the key's last checkpoint: checkpointChain refuses to sign the chain.
    await tamper(store, `update $s.events set data = '{"amount": 7}' where position = ${victim.position}`);
    await expect(checkpointChain(store, { privateKey })).rejects.toMatchObject({
      code: 'CHAIN_BROKEN',
      break: pinpoint(victim, 'altered'),
    });
  });

  it('a forged checkpoint, or one signed by a key not given, is a signature break; a log cut short is found by a published checkpoint', async () => {
    const store = await sealedLog();
    const [checkpoint] = await listChainCheckpoints(store);
    const other = generateKeyPairSync('ed25519');
    expect(await verifyChain(store, { publicKey: other.publicKey })).toMatchObject({
      broken: { reason: 'signature', position: checkpoint!.position },
    });
    // Both keys given (a rotation): it holds.
    expect(await verifyChain(store, { publicKey: [other.publicKey, publicKey] })).toMatchObject({
      intact: true,
    });
    const all = await events(store);
    await tamper(
      store,
      `delete from $s.events where position >= ${all[10]!.position}`,
      `delete from $s.event_chain where position >= ${all[10]!.position}`,
      `delete from $s.event_chain_checkpoints`,
    );
    expect(await verifyChain(store, { publicKey })).toMatchObject({ intact: true, events: 10 });
    expect(await verifyChain(store, { publicKey, checkpoints: [checkpoint!] })).toMatchObject({
      broken: { reason: 'missing', position: checkpoint!.position },
    });
    const forged = { ...checkpoint!, hash: 'f'.repeat(64) };
    expect(await verifyChain(store, { publicKey, checkpoints: [forged] })).toMatchObject({
      broken: { reason: 'signature', position: checkpoint!.position },
    });
  });

  it('an event inserted below the chain’s head is found', async () => {
    const store = await sealedLog();
    const all = await events(store);
    const at = BigInt(all[5]!.position) + 500n;
    await tamper(
      store,
      `insert into $s.events (position, transaction_id, stream_id, revision, id, type, schema_version, data, metadata)
        select ${at}, transaction_id, 'account-9', 0, gen_random_uuid(), 'Deposited', 1, '{}', '{}'
        from $s.events where position = ${all[5]!.position}`,
    );
    expect((await verifyChain(store, { publicKey })).broken).toMatchObject({
      reason: 'unchained',
      position: at,
      streamId: 'account-9',
    });
  });

  it('sealing racing appends, and other sealers, chains every event once, in position order', async () => {
    const store = await db.open(target);
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; i < 15; i++) {
        await store.append(`race-${w}`, [
          { type: 'T', data: { w, i } },
          { type: 'T', data: { w, i, second: true } },
        ]);
      }
    });
    let done = false;
    const sealers = [0, 1].map(async () => {
      while (!done) await sealChain(store, { batchSize: 7 });
    });
    await Promise.all(writers);
    done = true;
    await Promise.all(sealers);
    // The last events pass the horizon once no other session's transaction holds it.
    await waitFor(async () => {
      await sealChain(store);
      // Another session's transaction (a test file running alongside) can hide the newest events
      // from verifyChain as well as from sealChain: wait until it sees all of them, sealed.
      const report = await verifyChain(store, { publicKey });
      return report.events === 120 && report.unsealed === 0;
    }, 'all 120 events below the horizon and sealed');
    await checkpointChain(store, { privateKey });
    expect(await verifyChain(store, { publicKey })).toMatchObject({ intact: true, events: 120, sealed: 120 });
  });

  it.skipIf(target === 'pglite')(
    'a transaction still open holds sealing back at the horizon; once it commits, its events are sealed in order',
    async () => {
      const store = await db.open(target);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let appended!: () => void;
      const inside = new Promise<void>((resolve) => (appended = resolve));
      const open = store.transaction(async (tx) => {
        await store.append('slow', [{ type: 'T', data: {} }], { transaction: tx });
        appended();
        await held;
      });
      await inside;
      await store.append('fast', [{ type: 'T', data: {} }]);
      // The later transaction committed first, but sits above the open one's position: not sealed.
      expect(await sealChain(store)).toMatchObject({ sealed: 0 });
      release();
      await open;
      await sealUntil(store, 2);
      const all = await events(store);
      expect(all.map((e) => e.stream_id)).toEqual(['slow', 'fast']);
      expect(await verifyChain(store, { publicKey })).toMatchObject({ intact: true, sealed: 2 });
    },
  );
});

describe('event chain on other stores and bad input', () => {
  it('the in-memory store has no chain: a typed error, not a silent pass', async () => {
    const store = new InMemoryEventStore();
    await expect(sealChain(store)).rejects.toMatchObject({ code: 'CHAIN_UNSUPPORTED' });
    await expect(verifyChain(store, { publicKey })).rejects.toMatchObject({ code: 'CHAIN_UNSUPPORTED' });
    await expect(checkpointChain(store, { privateKey })).rejects.toMatchObject({ code: 'CHAIN_UNSUPPORTED' });
  });

  it('a key that is not Ed25519, or a malformed checkpoint, is INVALID_ARGUMENT', async () => {
    const store = await db.open('pglite' satisfies TargetName);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await expect(checkpointChain(store, { privateKey: ec.privateKey })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'privateKey must be an Ed25519 key, found a ec key.',
    });
    await expect(checkpointChain(store, { privateKey: publicKey })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(verifyChain(store, { publicKey: 'not a key' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(
      verifyChain(store, {
        publicKey,
        checkpoints: [{ position: 1n, hash: 'xyz', keyId: 'k', signature: '' }],
      }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(sealChain(store, { batchSize: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
