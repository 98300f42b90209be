import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { InvalidArgument, type NewEvent } from '@annals/core';
import type { AnnalsTables, PostgresEventStore } from '@annals/postgres';
import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import { type ImportedEvent, parseExportLine } from '../ndjson.js';
import { withSession } from '../session.js';

/** Most events appended in one batch (one transaction) while importing one stream's run of events. */
const BATCH = 500;

/** `annals import [file] [--append]`. */
export function registerImport(program: Command): void {
  program
    .command('import')
    .description(
      'append an NDJSON export (from a file or stdin) in its order, keeping ids, revisions, types, versions, data, metadata and recordedAt',
    )
    .argument('[file]', 'the export; stdin when absent or -')
    .option(
      '--append',
      'import into a store that already holds events (each stream must continue at its revision)',
    )
    .option('--force', 'the same as --append')
    .action(
      async (file: string | undefined, options: { append?: boolean; force?: boolean }, command: Command) => {
        await withSession(command, { config: 'optional', definitions: false }, async ({ store }) => {
          const db = store.kysely.withoutPlugins().withSchema(store.schema) as Kysely<AnnalsTables>;
          const existing = await db.selectFrom('events').select('position').limit(1).executeTakeFirst();
          if (existing !== undefined && options.append !== true && options.force !== true) {
            throw new InvalidArgument(
              `The store (schema ${store.schema}) already holds events; import into an empty store, or pass --append to add the export after them.`,
            );
          }
          const input = file === undefined || file === '-' ? process.stdin : createReadStream(file);
          const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
          const importer = new BatchImporter(store);
          let lineNumber = 0;
          for await (const text of lines) {
            lineNumber++;
            if (text.trim() === '') continue;
            await importer.add(parseExportLine(text, lineNumber));
          }
          await importer.flush();
          process.stderr.write(`imported ${importer.count} event(s)\n`);
        });
      },
    );
}

/**
 * Appends consecutive events of one stream together (at most {@link BATCH}), in the order read: the
 * target log keeps the export's order, and each event its recordedAt. Each batch expects the stream at the revision before its
 * first event, so revisions are kept exactly or the import stops (`CONCURRENCY_CONFLICT`);
 * re-importing events already there is a no-op (appends are idempotent by event id).
 */
class BatchImporter {
  readonly #store: PostgresEventStore;
  #streamId: string | undefined;
  #first = 0n;
  #events: NewEvent[] = [];
  #recordedAt: Date[] = [];
  count = 0;

  constructor(store: PostgresEventStore) {
    this.#store = store;
  }

  async add(line: ImportedEvent): Promise<void> {
    const next = this.#first + BigInt(this.#events.length);
    if (line.streamId !== this.#streamId || line.revision !== next || this.#events.length >= BATCH) {
      await this.flush();
      this.#streamId = line.streamId;
      this.#first = line.revision;
    }
    this.#events.push(line.event);
    this.#recordedAt.push(line.recordedAt);
  }

  async flush(): Promise<void> {
    if (this.#streamId === undefined || this.#events.length === 0) return;
    await this.#store.append(this.#streamId, this.#events, {
      import: true,
      recordedAt: this.#recordedAt,
      expectedRevision: this.#first === 0n ? 'no_stream' : this.#first - 1n,
    });
    this.count += this.#events.length;
    this.#events = [];
    this.#recordedAt = [];
  }
}
