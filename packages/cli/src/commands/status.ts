import {
  type AnnalsTables,
  type PostgresDiagnostics,
  type ProjectionOverview,
  readProjectionOverview,
  readSchemaState,
} from '@annals/postgres';
import type { Command } from 'commander';
import { type Kysely, sql } from 'kysely';
import { CommandExit } from '../errors.js';
import { EXIT_CODES } from '../exit-codes.js';
import { formatDuration, printTable, toJson, writeLine } from '../output.js';
import { withSession } from '../session.js';

/** `annals status [--json]`. */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('schema version, log, horizon, projections and dead letters at a glance')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withSession(command, { config: 'optional', definitions: true }, async ({ store, config }) => {
        const schema = await readSchemaState(store);
        if (schema.pending.length > 0) {
          if (options.json === true) await writeLine(toJson({ schema }));
          else
            await writeLine(
              `schema ${store.schema}: not migrated (${schema.applied.length === 0 ? 'no Annals tables' : `at ${schema.applied.at(-1)}`}; pending ${schema.pending.join(', ')}); run annals migrate`,
            );
          throw new CommandExit(EXIT_CODES.notMigrated);
        }
        const db = store.kysely.withoutPlugins().withSchema(store.schema) as Kysely<AnnalsTables>;
        const [events, streams, diagnostics, projections] = await Promise.all([
          db.selectFrom('events').select(sql<string>`count(*)::text`.as('n')).executeTakeFirstOrThrow(),
          db.selectFrom('streams').select(sql<string>`count(*)::text`.as('n')).executeTakeFirstOrThrow(),
          store.diagnostics(),
          readProjectionOverview(store, config?.config.projections ?? []),
        ]);
        const summary = {
          schema: { name: store.schema, migration: schema.applied.at(-1), pending: schema.pending },
          events: Number(events.n),
          streams: Number(streams.n),
          log: diagnostics,
          projections,
          deadLetters: projections.reduce((n, p) => n + p.deadLetters, 0),
        };
        if (options.json === true) {
          await writeLine(toJson(summary));
          return;
        }
        await writeLine(`schema       ${store.schema} at ${summary.schema.migration} (up to date)`);
        await writeLine(`events       ${summary.events} in ${summary.streams} streams`);
        for (const line of logLines(diagnostics)) await writeLine(line);
        await writeLine('');
        await writeLine('projections');
        await printTable(
          ['KEY', 'STATE', 'POSITION', 'LAG', 'LAG TIME', 'OWNER', 'LEASE EXPIRES', 'DEAD LETTERS'],
          projections.map(projectionRow),
        );
        await writeLine('');
        await writeLine(
          `dead letters ${summary.deadLetters}${summary.deadLetters > 0 ? ' (annals dead-letters list)' : ''}`,
        );
      });
    });
}

function logLines(d: PostgresDiagnostics): string[] {
  const lines = [
    `log          last position ${d.lastCommittedPosition ?? '-'}, readers see up to ${d.lastVisiblePosition ?? '-'}`,
    `horizon      ${d.horizon} (oldest running transaction ${d.oldestRunningTransactionId}); ${d.eventsBehindHorizon} event(s) committed above it`,
  ];
  const holder = d.openTransactions.find((t) => t.holdsHorizon);
  if (holder !== undefined) {
    lines.push(
      `held by      pid ${holder.pid} (${holder.applicationName || 'no application name'}, ${holder.user ?? '?'}@${holder.database ?? '?'}), open ${formatDuration(holder.ageMs)}, ${holder.state ?? '?'}: ${oneLine(holder.query)}`,
    );
  }
  const others = d.openTransactions.filter((t) => !t.holdsHorizon && t.ageMs >= 1000);
  for (const t of others) {
    lines.push(
      `open         pid ${t.pid}, open ${formatDuration(t.ageMs)}, ${t.state ?? '?'}: ${oneLine(t.query)}`,
    );
  }
  for (const p of d.preparedTransactions) {
    lines.push(`prepared     ${p.gid} since ${p.preparedAt.toISOString()} (${p.owner}@${p.database})`);
  }
  return lines;
}

function projectionRow(p: ProjectionOverview): string[] {
  return [
    p.key,
    p.state,
    p.position.toString(),
    `${p.lagEvents}${p.lagByType ? '' : '*'}`,
    p.lagEvents === 0 ? '-' : formatDuration(p.lagMs),
    p.owner ?? '-',
    p.leaseExpiresAt?.toISOString() ?? '-',
    String(p.deadLetters),
  ];
}

function oneLine(query: string | undefined): string {
  if (query === undefined) return '?';
  const flat = query.replace(/\s+/g, ' ').trim();
  return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
}
