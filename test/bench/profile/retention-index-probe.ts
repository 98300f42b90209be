/**
 * What the indexes of migration 0014 cost a write and save a prune, in the same run: schema A has
 * them, schema B has them dropped. Per round and side: MESSAGES inbox records and as many idempotency
 * records (one transaction each, as `handle` and the bus write them), about 80% of them made two days
 * old, then a prune of those in batches of 100, beside BULK (default 300,000) recent records of each
 * table that the prune must leave alone. Not part of CI.
 *
 *   DATABASE_URL=... tsx test/bench/profile/retention-index-probe.ts [--rounds 5] [--messages 2000]
 */
import { parseArgs } from 'node:util';
import { PostgresEventStore, PostgresIdempotencyStore, PostgresInbox } from '@annals/postgres';
import { sql } from 'kysely';

const { values } = parseArgs({ options: { rounds: { type: 'string' }, messages: { type: 'string' } } });
const ROUNDS = Number(values.rounds ?? 5);
const MESSAGES = Number(values.messages ?? 2000);
const BULK = Number(process.env.BULK ?? 300_000);
const url = process.env.DATABASE_URL ?? '';
if (url === '') throw new Error('set DATABASE_URL');

async function open(schema: string, indexed: boolean): Promise<PostgresEventStore> {
  const store = await PostgresEventStore.create({ connectionString: url }, { schema });
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.kysely);
  await store.migrate();
  const t = (table: string) => sql.id(schema, table);
  if (!indexed) {
    for (const index of ['inbox_messages_handled_at_idx', 'idempotency_records_recorded_at_idx']) {
      await sql`drop index ${sql.id(schema, index)}`.execute(store.kysely);
    }
  }
  await sql`insert into ${t('inbox_messages')} (consumer, message_id)
    select 'bulk', 'b-' || i from generate_series(1, ${BULK}) as i`.execute(store.kysely);
  await sql`insert into ${t('idempotency_records')} (command_id, command_type, payload)
    select 'b-' || i, 'Bulk', '{}' from generate_series(1, ${BULK}) as i`.execute(store.kysely);
  return store;
}

const sides = { indexed: await open('probe_ret_indexed', true), bare: await open('probe_ret_bare', false) };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const figures: Record<string, number[]> = {};
const note = (name: string, value: number) => {
  figures[name] ??= [];
  figures[name].push(value);
};
async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

for (let round = 0; round < ROUNDS; round++) {
  // Alternate which side goes first.
  const order = round % 2 === 0 ? (['indexed', 'bare'] as const) : (['bare', 'indexed'] as const);
  for (const side of order) {
    const store = sides[side];
    const t = (table: string) => sql.id(store.schema, table);
    const inbox = new PostgresInbox(store, { consumer: `c${round}` });
    const records = new PostgresIdempotencyStore(store);
    const ids = Array.from({ length: MESSAGES }, (_, i) => `r${round}-${i}`);
    const handle = await timed(async () => {
      for (const id of ids) await inbox.handle(id, async () => {});
    });
    note(`${side}: inbox handle/s`, MESSAGES / (handle / 1000));
    const record = await timed(async () => {
      for (const id of ids) await records.set(id, { commandType: 'Probe', payload: '{}', result: undefined });
    });
    note(`${side}: idempotency records/s`, MESSAGES / (record / 1000));
    await sql`update ${t('inbox_messages')} set handled_at = now() - interval '2 days'
      where consumer = ${inbox.consumer} and message_id < ${`r${round}-8`}`.execute(store.kysely);
    await sql`update ${t('idempotency_records')} set recorded_at = now() - interval '2 days'
      where command_id like ${`r${round}-%`} and command_id < ${`r${round}-8`}`.execute(store.kysely);
    await sql`analyze ${t('inbox_messages')}`.execute(store.kysely);
    await sql`analyze ${t('idempotency_records')}`.execute(store.kysely);
    const options = { olderThanMs: 86_400_000, batchSize: 100 };
    note(`${side}: inbox prune ms`, await timed(() => inbox.prune(options)));
    note(`${side}: idempotency prune ms`, await timed(() => records.prune(options)));
  }
}
for (const [name, xs] of Object.entries(figures).sort())
  console.log(`${name}: median ${median(xs).toFixed(1)}`);
const ratio = (name: string) => median(figures[`indexed: ${name}`]!) / median(figures[`bare: ${name}`]!);
for (const name of ['inbox handle/s', 'idempotency records/s', 'inbox prune ms', 'idempotency prune ms']) {
  console.log(`${name}, with the index / without: ${ratio(name).toFixed(2)}x`);
}
for (const store of Object.values(sides)) {
  await sql`drop schema ${sql.id(store.schema)} cascade`.execute(store.kysely);
  await store.close();
}
