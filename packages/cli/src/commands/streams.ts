import type { AnnalsTables } from '@annals/postgres';
import type { Command } from 'commander';
import { type Kysely, sql } from 'kysely';
import { eventJson, formatEvent, printTable, toJson, writeLine } from '../output.js';
import { bigintOption, countOption } from '../parse.js';
import { withSession } from '../session.js';

/** `annals streams list|show`. */
export function registerStreams(program: Command): void {
  const streams = program.command('streams').description('list streams and show their events');
  streams
    .command('list')
    .description('list streams (id, last revision, events, created, updated), by id')
    .option('--prefix <prefix>', 'only streams whose id starts with this')
    .option('--limit <n>', 'at most this many', countOption('--limit'))
    .option('--json', 'print one JSON object per line')
    .action(async (options: { prefix?: string; limit?: number; json?: boolean }, command: Command) => {
      await withSession(command, { config: 'optional', definitions: false }, async ({ store }) => {
        const db = store.kysely.withoutPlugins().withSchema(store.schema) as Kysely<AnnalsTables>;
        let query = db
          .selectFrom('streams')
          .select(['stream_id', sql<string>`revision::text`.as('revision'), 'created_at', 'updated_at'])
          .orderBy('stream_id');
        if (options.prefix !== undefined)
          query = query.where(sql<boolean>`starts_with(stream_id, ${options.prefix}::text)`);
        if (options.limit !== undefined) query = query.limit(options.limit);
        const rows = await query.execute();
        const listed = rows.map((r) => ({
          streamId: r.stream_id,
          revision: r.revision,
          events: (BigInt(r.revision) + 1n).toString(),
          createdAt: new Date(r.created_at).toISOString(),
          updatedAt: new Date(r.updated_at).toISOString(),
        }));
        if (options.json === true) {
          for (const s of listed) await writeLine(toJson(s));
          return;
        }
        await printTable(
          ['STREAM', 'REVISION', 'EVENTS', 'CREATED', 'UPDATED'],
          listed.map((s) => [s.streamId, s.revision, s.events, s.createdAt, s.updatedAt]),
        );
      });
    });
  streams
    .command('show')
    .description('print the events of one stream, as stored (no upcasting)')
    .argument('<stream-id>', 'the stream')
    .option('--from <revision>', 'first revision (inclusive)', bigintOption('--from'))
    .option('--to <revision>', 'last revision (inclusive)', bigintOption('--to'))
    .option('--json', 'print one JSON object per line')
    .action(
      async (streamId: string, options: { from?: bigint; to?: bigint; json?: boolean }, command: Command) => {
        await withSession(command, { config: 'optional', definitions: false }, async ({ store }) => {
          const from = options.from ?? 0n;
          if (options.to !== undefined && options.to < from) return;
          const maxCount = options.to === undefined ? undefined : Number(options.to - from + 1n);
          for await (const event of store.readStream(streamId, {
            fromRevision: from,
            ...(maxCount === undefined ? {} : { maxCount }),
          })) {
            await writeLine(options.json === true ? toJson(eventJson(event)) : formatEvent(event));
          }
        });
      },
    );
}
