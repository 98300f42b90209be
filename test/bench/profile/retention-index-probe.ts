/**
 * What the indexes of migration 0014 cost a write, and what they save a prune, in the same run: schema
 * A has them, schema B has them dropped. Inbox records (one transaction each, as `handle` writes them),
 * then a prune of half of them. Not part of CI.
 *
 *   DATABASE_URL=... tsx test/bench/profile/retention-index-probe.ts [--rounds 5] [--messages 2000]
 */
import { parseArgs } from 'node:util';
import { PostgresEventStore, PostgresInbox } from '@annals/postgres';
import { sql } from 'kysely';

const { values } = parseArgs({ options: { rounds: { type: 'string' }, messages: { type: 'string' } } });
const ROUNDS = Number(values.rounds ?? 5);
const MESSAGES = Number(values.messages ?? 2000);
const url = process.env.DATABASE_URL ?? '';
if (url === '') throw new Error('set DATABASE_URL');

async function open(schema: string, indexed: boolean): Promise<PostgresEventStore> {
  const store = await PostgresEventStore.create({ connectionString: url }, { schema });
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.kysely);
  await store.migrate();
  if (!indexed)
    await sql`drop index ${sql.id(schema, 'inbox_messages_handled_at_idx')}`.execute(store.kysely);
  return store;
}

const sides = { indexed: await open('probe_ret_indexed', true), bare: await open('probe_ret_bare', false) };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const figures: Record<string, number[]> = {};
const note = (name: string, value: number) => {
  figures[name] ??= [];
  figures[name].push(value);
};

for (let round = 0; round < ROUNDS; round++) {
  // Alternate which side goes first.
  const order = round % 2 === 0 ? (['indexed', 'bare'] as const) : (['bare', 'indexed'] as const);
  for (const side of order) {
    const store = sides[side];
    const inbox = new PostgresInbox(store, { consumer: `c${round}` });
    let started = performance.now();
    for (let i = 0; i < MESSAGES; i++) await inbox.handle(`m-${i}`, async () => {});
    note(`${side} handle/s`, MESSAGES / ((performance.now() - started) / 1000));
    await sql`update ${sql.id(store.schema, 'inbox_messages')} set handled_at = now() - interval '2 days'
      where consumer = ${inbox.consumer} and message_id < 'm-5'`.execute(store.kysely);
    await sql`analyze ${sql.id(store.schema, 'inbox_messages')}`.execute(store.kysely);
    started = performance.now();
    const removed = await inbox.prune({ olderThanMs: 86_400_000, batchSize: 100 });
    note(
      `${side} prune ms (${removed} of ${MESSAGES * (round + 1)} rows, batches of 100)`,
      performance.now() - started,
    );
  }
}
for (const [name, xs] of Object.entries(figures)) console.log(`${name}: median ${median(xs).toFixed(1)}`);
const handle = median(figures['indexed handle/s']!) / median(figures['bare handle/s']!);
console.log(`handle with the index / without: ${handle.toFixed(2)}x`);
for (const store of Object.values(sides)) {
  await sql`drop schema ${sql.id(store.schema)} cascade`.execute(store.kysely);
  await store.close();
}
