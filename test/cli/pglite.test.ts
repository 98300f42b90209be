import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LATEST_MIGRATION } from '@annals/postgres';
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
    expect(dry.stdout).toContain('4 pending migration(s)');
    expect(dry.stdout).toContain('0001_event_log');
    const applied = await runCli([...on(), 'migrate', '--json']);
    expect(applied.code).toBe(0);
    expect(JSON.parse(applied.stdout).applied).toHaveLength(4);
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
    const show = await runCli([...on(), 'dead-letters', 'show', letters[0]!.eventId]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('Error: poison owner');
    expect(show.stdout).toContain('"owner":"poison"');
    const retry = await runCli([...on(), ...config, 'dead-letters', 'retry', letters[0]!.eventId], {
      env: { CLI_HEAL: '1' },
    });
    expect(retry.code).toBe(0);
    const discard = await runCli([...on(), 'dead-letters', 'discard', letters[1]!.eventId]);
    expect(discard.code).toBe(0);
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

  it('errors: one line with the code, and the documented exit codes', async () => {
    const nowhere = await runCli(['status']);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr.trim()).toMatch(/^annals: INVALID_ARGUMENT: Where is the store\?/);
    const unknown = await runCli([...on(), 'status', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--bogus'");
    const unmigrated = await runCli([...on(), '--schema', 'elsewhere', 'status']);
    expect(unmigrated.code).toBe(4);
    const unreachable = await runCli(['--database-url', 'postgres://postgres@127.0.0.1:1/none', 'status']);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr.trim()).toMatch(/^annals: STORE_UNAVAILABLE: /);
    const help = await runCli(['dead-letters', 'retry', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: annals dead-letters retry [options] <event-id>');
  });
});
