import { InvalidArgument } from '@annals/core';
import {
  type AnnalsTables,
  type PostgresEventStore,
  PostgresLeaseStore,
  PostgresProjectionControl,
} from '@annals/postgres';
import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import type { LoadedConfig } from '../config.js';
import { toJson, writeLine } from '../output.js';
import { withSession } from '../session.js';

/** How often `pause --wait` looks at the leases. */
const WAIT_POLL_MS = 200;

/** `annals projections pause <name> [--wait]` and `annals projections resume <name>`. */
export function registerPauseResume(projections: Command): void {
  projections
    .command('pause')
    .description(
      'pause a projection on every runner: each lets its current batch commit, releases the lease and applies nothing until resumed (within a third of its lease time-to-live)',
    )
    .argument('<name>', 'the projection name (of the config, or with a checkpoint in the store)')
    .option('--wait', 'return once no runner holds a lease on the projection any more')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, options: { wait?: boolean; json?: boolean }, command: Command) => {
      await withSession(command, { config: 'optional', definitions: false }, async ({ store, config }) => {
        await assertKnownProjection(store, config, name);
        const control = new PostgresProjectionControl(store);
        await control.pause(name);
        if (options.wait === true) await waitUntilReleased(store, name);
        const paused = (await control.listPaused()).find((p) => p.name === name);
        if (options.json === true) {
          await writeLine(toJson({ projection: name, paused: true, pausedAt: paused?.pausedAt }));
        } else {
          await writeLine(
            options.wait === true
              ? `paused ${name}: no runner holds it now; annals projections resume ${name} resumes it`
              : `paused ${name}: every runner stops applying it within a third of its lease time-to-live; annals projections resume ${name} resumes it`,
          );
        }
      });
    });
  projections
    .command('resume')
    .description('resume a paused projection: a runner takes it again and continues from its checkpoint')
    .argument('<name>', 'the paused projection')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, options: { json?: boolean }, command: Command) => {
      await withSession(command, { config: 'optional', definitions: false }, async ({ store }) => {
        const control = new PostgresProjectionControl(store);
        if (!(await control.isPaused(name))) {
          const paused = (await control.listPaused()).map((p) => p.name);
          throw new InvalidArgument(
            `Projection ${name} is not paused; paused now: ${paused.join(', ') || 'none'}.`,
          );
        }
        await control.resume(name);
        if (options.json === true) await writeLine(toJson({ projection: name, paused: false }));
        else await writeLine(`resumed ${name}: a runner takes it again from its checkpoint`);
      });
    });
}

/**
 * Refuses a name that is neither a projection of the config nor one with a checkpoint in the store
 * (a typo would otherwise pause nothing, silently).
 */
async function assertKnownProjection(
  store: PostgresEventStore,
  config: LoadedConfig | undefined,
  name: string,
): Promise<void> {
  const configured = (config?.config.projections ?? []).map((p) => p.name);
  if (configured.includes(name)) return;
  const db = store.kysely.withoutPlugins().withSchema(store.schema) as Kysely<AnnalsTables>;
  const rows = await db.selectFrom('checkpoints').select('name').execute();
  const stored = [...new Set(rows.map((r) => r.name.replace(/\[\d+\/\d+\]$/, '')))];
  if (stored.includes(name)) return;
  const known = [...new Set([...configured, ...stored])].sort();
  throw new InvalidArgument(
    `No projection named ${name}: ${config === undefined ? 'no config is loaded' : `the config ${config.path} does not define it`} and the store has no checkpoint of it; known: ${known.join(', ') || 'none'}.`,
  );
}

/** Polls until no runner holds the lease of the projection or of one of its shards. */
async function waitUntilReleased(store: PostgresEventStore, name: string): Promise<void> {
  const leases = new PostgresLeaseStore(store);
  for (;;) {
    const held = [await leases.get(name), ...(await leases.list(`${name}[`))].filter(
      (lease) => lease !== undefined,
    );
    if (held.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
  }
}
