import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  annalsMigrations,
  LATEST_MIGRATION,
  PostgresEventStore,
  PostgresIdempotencyStore,
  PostgresInbox,
  PostgresProcessStore,
} from '@annals/postgres';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureConfig, jsonLines, runCli, tempFolder } from './support/cli.js';
import { kept, readLog, seedLog, UNREADABLE_STREAM } from './support/seed.js';

// The annals command on PGlite data folders, run as a separate process per command.
let temp: { path: string; remove: () => Promise<void> };
let data: string;
const config = ['--config', fixtureConfig];
const on = () => ['--data', data];

beforeAll(async () => {
  temp = await tempFolder('pglite');
  data = join(temp.path, 'db');
});
afterAll(async () => temp?.remove());

// Each test spawns several processes that each start Node, tsx and PGlite: seconds apiece on a loaded machine.
describe('annals on PGlite', { timeout: 600_000 }, () => {
  it('migrate: --dry-run lists the pending migrations, migrate applies them, then nothing is pending', async () => {
    const dry = await runCli([...on(), 'migrate', '--dry-run']);
    expect(dry.code).toBe(0);
    const migrations = Object.keys(annalsMigrations('annals'));
    expect(dry.stdout).toContain(`${migrations.length} pending migration(s)`);
    expect(dry.stdout).toContain('0001_event_log');
    const applied = await runCli([...on(), 'migrate', '--json']);
    expect(applied.code).toBe(0);
    expect(JSON.parse(applied.stdout).applied).toEqual(migrations);
    const after = await runCli([...on(), 'migrate', '--dry-run', '--check', '--json']);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout).pending).toEqual([]);
    await seedLog({ pglite: data });
  });

  it('status: schema, counts, log and every projection of the config', async () => {
    const result = await runCli([...on(), ...config, 'status', '--json']);
    expect(result.code).toBe(0);
    const status = JSON.parse(result.stdout);
    expect(status.schema.migration).toBe(LATEST_MIGRATION);
    expect(status.events).toBe(8);
    expect(status.streams).toBe(4);
    expect(status.projections.map((p: { key: string; state: string }) => [p.key, p.state])).toEqual([
      ['cart-owners', 'new'],
      ['item-counts', 'new'],
    ]);
    // item-counts handles ItemAdded only: 5 of the 8 events.
    expect(status.projections.find((p: { key: string }) => p.key === 'item-counts').lagEvents).toBe(5);
    const text = await runCli([...on(), ...config, 'status']);
    expect(text.stdout).toMatch(/^events\s+8 in 4 streams$/m);
  });

  it('streams list and show: by prefix, a revision range, as JSON lines', async () => {
    const list = await runCli([...on(), 'streams', 'list', '--prefix', 'cart-', '--json']);
    expect(list.code).toBe(0);
    expect(jsonLines(list.stdout).map((s) => [s.streamId, s.events])).toEqual([
      ['cart-1', '4'],
      ['cart-2', '1'],
      ['cart-3', '1'],
    ]);
    const show = await runCli([...on(), 'streams', 'show', 'cart-1', '--from', '1', '--to', '2', '--json']);
    expect(show.code).toBe(0);
    // As stored: the v1 event is not upcast.
    expect(jsonLines(show.stdout).map((e) => [e.revision, e.type, e.schemaVersion, e.data])).toEqual([
      ['1', 'ItemAdded', 1, { sku: 'pen' }],
      ['2', 'ItemAdded', 2, { sku: 'ink', quantity: 3 }],
    ]);
    const missing = await runCli([...on(), 'streams', 'show', 'cart-9']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^annals: STREAM_NOT_FOUND: .*cart-9/);
  });

  it('verify: reports each event that no longer reads and exits 5', async () => {
    const result = await runCli([...on(), ...config, 'verify', '--json']);
    expect(result.code).toBe(5);
    const lines = jsonLines(result.stdout);
    const summary = lines.pop()!;
    expect(summary).toMatchObject({ checked: 8, unreadable: 2 });
    expect(lines.map((l) => [l.streamId, l.revision, l.code])).toEqual([
      [UNREADABLE_STREAM, '0', 'UPCAST_FAILED'],
      [UNREADABLE_STREAM, '1', 'EVENT_VALIDATION_FAILED'],
    ]);
  });

  it('projections rebuild: replays the log into the projection and says where it ended', async () => {
    // item-counts meets the two unreadable events of order-1: it stops there (its policy is 'stop').
    const failing = await runCli([...on(), ...config, 'projections', 'rebuild', 'item-counts']);
    expect(failing.code).toBe(1);
    expect(failing.stderr.trim().split('\n').at(-1)).toMatch(/^annals: (PROJECTION_FAILED|UPCAST_FAILED): /);
    const owners = await runCli([...on(), ...config, 'projections', 'rebuild', 'cart-owners', '--json']);
    expect(owners.code).toBe(0);
    const result = JSON.parse(owners.stdout);
    expect(result).toMatchObject({ projection: 'cart-owners', events: 3, stopped: false });
  });

  it('dead-letters: list, show, retry (applied and removed together) and discard', async () => {
    const list = await runCli([...on(), 'dead-letters', 'list', '--json']);
    expect(list.code).toBe(0);
    const letters = jsonLines(list.stdout);
    expect(letters.map((l) => [l.projection, l.streamId, l.eventType])).toEqual([
      ['cart-owners', 'cart-2', 'CartOpened'],
      ['cart-owners', 'cart-3', 'CartOpened'],
    ]);
    expect(new Set(letters.map((l) => l.id)).size, 'each letter has its own id').toBe(2);
    const table = await runCli([...on(), 'dead-letters', 'list']);
    expect(table.stdout).toMatch(
      new RegExp(`^${letters[0]!.id}\\s+${letters[0]!.eventId}\\s+cart-owners`, 'm'),
    );
    const show = await runCli([...on(), 'dead-letters', 'show', letters[0]!.eventId]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('Error: poison owner');
    expect(show.stdout).toContain('"owner":"poison"');
    // Retry by the letter's id, discard by the event's id.
    const retry = await runCli([...on(), ...config, 'dead-letters', 'retry', letters[0]!.id], {
      env: { CLI_HEAL: '1' },
    });
    expect(retry.code, retry.stderr).toBe(0);
    const again = await runCli([...on(), ...config, 'dead-letters', 'retry', letters[0]!.id]);
    expect(again.code).toBe(2);
    expect(again.stderr.trim()).toMatch(
      new RegExp(`^annals: INVALID_ARGUMENT: No dead letter with id ${letters[0]!.id}`),
    );
    const discard = await runCli([...on(), 'dead-letters', 'discard', letters[1]!.eventId]);
    expect(discard.code, discard.stderr).toBe(0);
    const after = await runCli([...on(), 'dead-letters', 'list', '--json']);
    expect(jsonLines(after.stdout)).toEqual([]);
  });

  it('export and import: a copy into an empty PGlite store keeps ids, revisions, order, data and metadata', async () => {
    const file = join(temp.path, 'log.ndjson');
    const exported = await runCli([...on(), 'export', '--out', file]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toContain('exported 8 event(s)');
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(8);
    const copy = join(temp.path, 'copy');
    expect((await runCli(['--data', copy, 'migrate'])).code).toBe(0);
    const imported = await runCli(['--data', copy, 'import', file]);
    expect(imported.code).toBe(0);
    expect(kept(await readLog({ pglite: copy }))).toEqual(kept(await readLog({ pglite: data })));
    // Into a store that holds events: refused unless --append.
    const again = await runCli(['--data', copy, 'import', file]);
    expect(again.code).toBe(2);
    expect(again.stderr.trim()).toMatch(
      /^annals: INVALID_ARGUMENT: The store \(schema annals\) already holds events/,
    );
  });

  it('projections pause and resume: recorded in the store, shown by status', async () => {
    const pause = await runCli([...on(), ...config, 'projections', 'pause', 'item-counts']);
    expect(pause.code, pause.stderr).toBe(0);
    expect(pause.stdout).toMatch(/^paused item-counts: /);
    const status = JSON.parse((await runCli([...on(), ...config, 'status', '--json'])).stdout);
    const counts = status.projections.find((p: { key: string }) => p.key === 'item-counts');
    expect(counts).toMatchObject({ state: 'paused' });
    expect(Date.parse(counts.pausedAt)).not.toBeNaN();
    const text = await runCli([...on(), ...config, 'status']);
    expect(text.stdout).toMatch(/^item-counts\s+paused\s/m);
    // A paused projection is not rebuilt: resume it first.
    const rebuild = await runCli([...on(), ...config, 'projections', 'rebuild', 'item-counts']);
    expect(rebuild.code).toBe(2);
    expect(rebuild.stderr.trim()).toMatch(/^annals: INVALID_ARGUMENT: Projection item-counts is paused/);
    const resume = await runCli([...on(), 'projections', 'resume', 'item-counts', '--json']);
    expect(resume.code, resume.stderr).toBe(0);
    expect(JSON.parse(resume.stdout)).toEqual({ projection: 'item-counts', paused: false });
    const twice = await runCli([...on(), 'projections', 'resume', 'item-counts']);
    expect(twice.code).toBe(2);
    expect(twice.stderr.trim()).toMatch(/^annals: INVALID_ARGUMENT: Projection item-counts is not paused/);
    const typo = await runCli([...on(), 'projections', 'pause', 'item-count']);
    expect(typo.code).toBe(2);
    expect(typo.stderr.trim()).toMatch(
      /^annals: INVALID_ARGUMENT: No projection named item-count: .*item-counts/,
    );
  });

  it('prune: removes the idempotency records, process outcomes and inbox records older than the window', async () => {
    const store = await PostgresEventStore.create({ pglite: data });
    try {
      for (const [consumer, id] of [
        ['mailer', 'm-old'],
        ['mailer', 'm-new'],
        ['audit', 'a-old'],
      ] as const) {
        await new PostgresInbox(store, { consumer }).handle(id, async () => {});
      }
      const processes = new PostgresProcessStore(store);
      await processes.recordOutcome('c-old', { ok: true });
      await processes.recordOutcome('c-new', { ok: true });
      const records = new PostgresIdempotencyStore(store);
      await records.set('cmd-old', { commandType: 'Open', payload: '{}', result: undefined });
      const backdate = (table: string, column: string, key: string, ids: string[]) =>
        sql`update ${sql.id(store.schema, table)} set ${sql.ref(column)} = now() - interval '40 days'
          where ${sql.ref(key)} in (${sql.join(ids)})`.execute(store.kysely);
      await backdate('inbox_messages', 'handled_at', 'message_id', ['m-old', 'a-old']);
      await backdate('process_commands', 'recorded_at', 'command_id', ['c-old']);
      await backdate('idempotency_records', 'recorded_at', 'command_id', ['cmd-old']);
    } finally {
      await store.close();
    }
    const bad = await runCli([...on(), 'prune', '--older-than', 'a month']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /^annals: INVALID_ARGUMENT: --older-than expects a duration .*found "a month"/,
    );
    const pruned = await runCli([...on(), 'prune', '--older-than', '30d', '--batch-size', '1', '--json']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(JSON.parse(pruned.stdout)).toEqual({
      olderThanMs: 30 * 86_400_000,
      idempotencyRecords: 1,
      processCommands: 1,
      inbox: { audit: 1, mailer: 1 },
    });
    const again = await runCli([...on(), 'prune', '--older-than', '30d']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^idempotency records\s+0$/m);
    expect(again.stdout).toMatch(/^inbox of mailer\s+0$/m);
    const after = await PostgresEventStore.create({ pglite: data });
    try {
      expect(await new PostgresInbox(after, { consumer: 'mailer' }).handled('m-new')).toBe(true);
      expect(await new PostgresProcessStore(after).outcome('c-new')).toEqual({ ok: true });
    } finally {
      await after.close();
    }
  });

  it('errors: one line with the code, and the documented exit codes', async () => {
    const nowhere = await runCli(['status']);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr.trim()).toMatch(/^annals: INVALID_ARGUMENT: Where is the store\?/);
    const unknown = await runCli([...on(), 'status', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      "annals: INVALID_ARGUMENT: unknown option '--bogus' (add --help for usage)\n",
    );
    const missing = await runCli([...on(), 'projections', 'pause']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      "annals: INVALID_ARGUMENT: missing required argument 'name' (add --help for usage)\n",
    );
    const command = await runCli([...on(), 'projection', 'pause', 'x']);
    expect(command.code).toBe(2);
    expect(command.stderr.trim().split('\n')).toHaveLength(1);
    expect(command.stderr).toMatch(/^annals: INVALID_ARGUMENT: unknown command 'projection'/);
    const position = await runCli([...on(), 'export', '--from', 'ten']);
    expect(position.code).toBe(2);
    expect(position.stderr).toMatch(
      /^annals: INVALID_ARGUMENT: --from expects a non-negative integer, found "ten"\.\n$/,
    );
    const unmigrated = await runCli([...on(), '--schema', 'elsewhere', 'status']);
    expect(unmigrated.code).toBe(4);
    const unreachable = await runCli(['--database-url', 'postgres://postgres@127.0.0.1:1/none', 'status']);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr.trim()).toMatch(/^annals: STORE_UNAVAILABLE: /);
  });

  it('--help: every command and subcommand prints its usage on stdout and exits 0', async () => {
    const commands: [string[], string][] = [
      [[], 'Usage: annals [options] [command]'],
      [['migrate'], 'Usage: annals migrate [options]'],
      [['status'], 'Usage: annals status [options]'],
      [['streams', 'list'], 'Usage: annals streams list [options]'],
      [['streams', 'show'], 'Usage: annals streams show [options] <stream-id>'],
      [['tail'], 'Usage: annals tail [options]'],
      [['projections'], 'Usage: annals projections [options] [command]'],
      [['projections', 'rebuild'], 'Usage: annals projections rebuild [options] <name>'],
      [['projections', 'pause'], 'Usage: annals projections pause [options] <name>'],
      [['projections', 'resume'], 'Usage: annals projections resume [options] <name>'],
      [['dead-letters', 'list'], 'Usage: annals dead-letters list [options]'],
      [['dead-letters', 'show'], 'Usage: annals dead-letters show [options] <id>'],
      [['dead-letters', 'retry'], 'Usage: annals dead-letters retry [options] <id>'],
      [['dead-letters', 'discard'], 'Usage: annals dead-letters discard [options] <id>'],
      [['export'], 'Usage: annals export [options]'],
      [['import'], 'Usage: annals import [options] [file]'],
      [['verify'], 'Usage: annals verify [options]'],
      [['seal'], 'Usage: annals seal [options]'],
      [['console'], 'Usage: annals console [options]'],
      [['prune'], 'Usage: annals prune [options]'],
    ];
    // One process prints them all: a spawn apiece would take minutes on a loaded machine.
    const { createProgram } = await import('../../packages/cli/src/program.js');
    const program = createProgram();
    for (const [path, usage] of commands) {
      let command = program;
      for (const name of path) command = command.commands.find((c) => c.name() === name)!;
      expect(command, `annals ${path.join(' ')}`).toBeDefined();
      const help = command.helpInformation();
      expect(help, `annals ${path.join(' ')} --help`).toContain(usage);
      expect(help).toMatch(/\n\s+-h, --help\s+display help for command/);
    }
    const listed = program.commands.flatMap((c) =>
      c.commands.length === 0 ? [[c.name()]] : c.commands.map((sub) => [c.name(), sub.name()]),
    );
    expect(
      listed.filter((path) => !commands.some(([p]) => p.join(' ') === path.join(' '))),
      'commands this test does not check',
    ).toEqual([]);
    const spawned = await runCli(['projections', 'pause', '--help']);
    expect(spawned.code).toBe(0);
    expect(spawned.stdout).toContain('Usage: annals projections pause [options] <name>');
    expect(spawned.stderr).toBe('');
  });
});
