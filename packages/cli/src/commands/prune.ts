import { InvalidArgument } from '@annals/core';
import {
  type PostgresEventStore,
  PostgresIdempotencyStore,
  PostgresInbox,
  PostgresProcessStore,
  type PruneOptions,
} from '@annals/postgres';
import type { Command } from 'commander';
import { sql } from 'kysely';
import ms from 'ms';
import { printTable, toJson, writeLine } from '../output.js';
import { withSession } from '../session.js';

/** What one `annals prune` removed: idempotency records, process command outcomes, inbox records by consumer. */
interface PruneReport {
  readonly olderThanMs: number;
  readonly idempotencyRecords: number;
  readonly processCommands: number;
  readonly inbox: Readonly<Record<string, number>>;
}

/** `annals prune --older-than <duration> [--batch-size <n>] [--json]`. */
export function registerPrune(program: Command): void {
  program
    .command('prune')
    .description(
      'remove the deduplication records older than a window: command idempotency records, process command outcomes, and every consumer’s inbox records',
    )
    .requiredOption(
      '--older-than <duration>',
      'the window to keep, e.g. 30d, 12h, 90m; a repeat of a removed id is no longer recognised',
    )
    .option('--batch-size <n>', 'records removed per statement (default 10000)')
    .option('--json', 'print what was removed as JSON')
    .action(async (options: { olderThan: string; batchSize?: string; json?: boolean }, command: Command) => {
      const prune: PruneOptions = {
        olderThanMs: durationOf(options.olderThan),
        ...(options.batchSize === undefined ? {} : { batchSize: Number(options.batchSize) }),
      };
      await withSession(command, { config: 'optional', definitions: false }, async ({ store }) => {
        const report = await pruneAll(store, prune);
        if (options.json === true) {
          await writeLine(toJson(report));
          return;
        }
        await printTable(
          ['RECORDS', 'REMOVED'],
          [
            ['idempotency records', String(report.idempotencyRecords)],
            ['process command outcomes', String(report.processCommands)],
            ...Object.entries(report.inbox).map(([consumer, n]) => [`inbox of ${consumer}`, String(n)]),
          ],
        );
      });
    });
}

/** `text` (`30d`, `12h`, `1500ms`, or a number of milliseconds) in milliseconds; `InvalidArgument` otherwise. */
function durationOf(text: string): number {
  const parsed = /^\d+$/.test(text) ? Number(text) : ms(text as ms.StringValue);
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0) {
    throw new InvalidArgument(
      `--older-than expects a duration such as 30d, 12h or 90m, found ${JSON.stringify(text)}.`,
    );
  }
  return parsed;
}

/** Prunes the idempotency records, the process command outcomes and the inbox of every consumer. */
async function pruneAll(store: PostgresEventStore, options: PruneOptions): Promise<PruneReport> {
  const idempotencyRecords = await new PostgresIdempotencyStore(store).prune(options);
  const processCommands = await new PostgresProcessStore(store).prune(options);
  const inbox: Record<string, number> = {};
  for (const consumer of await inboxConsumers(store)) {
    inbox[consumer] = await new PostgresInbox(store, { consumer }).prune(options);
  }
  return { olderThanMs: options.olderThanMs, idempotencyRecords, processCommands, inbox };
}

/** The consumers with records in the inbox, by name. */
async function inboxConsumers(store: PostgresEventStore): Promise<string[]> {
  const { rows } = await sql<{ consumer: string }>`
    select distinct consumer from ${sql.id(store.schema, 'inbox_messages')} order by consumer`.execute(
    store.kysely.withoutPlugins(),
  );
  return rows.map((r) => r.consumer);
}
