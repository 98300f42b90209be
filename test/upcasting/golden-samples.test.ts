import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { defineEvent, EventRegistry, UpcasterRegistry } from '@annals/core';
import { expectGoldenSamplesValid, verifyGoldenSamples } from '@annals/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AccountOpened,
  freshUpcasters,
  MoneyDeposited,
  moneyEvents,
  upcasters,
} from './fixtures/money-events.js';

const golden = new URL('./golden', import.meta.url);

describe('golden samples of this repo (test/upcasting/golden)', () => {
  it('every stored example still reads as a valid current event, and every version has one', async () => {
    // #region golden-test
    await expectGoldenSamplesValid({
      dir: new URL('./golden', import.meta.url),
      events: moneyEvents,
      upcasters,
      require: 'every-version',
    });
    // #endregion golden-test
  });

  it('reports each sample with what it is read as', async () => {
    const report = await verifyGoldenSamples({ dir: golden, events: moneyEvents, upcasters });
    expect(report.problems).toEqual([]);
    expect(report.samples.map((s) => [s.file, s.ok, s.readAs?.type, s.readAs?.version])).toEqual([
      ['AccountOpened/v1.json', true, 'AccountOpened', 1],
      ['FundsAdded/v1.json', true, 'MoneyDeposited', 3],
      ['MoneyDeposited/v1.json', true, 'MoneyDeposited', 3],
      ['MoneyDeposited/v2.json', true, 'MoneyDeposited', 3],
      ['MoneyDeposited/v3.json', true, 'MoneyDeposited', 3],
    ]);
    // The metadata file reached the v2 -> v3 upcaster.
    const v1 = report.samples.find((s) => s.file === 'MoneyDeposited/v1.json');
    expect(v1?.event?.data).toEqual({
      accountId: 'acc-1',
      amount: { value: 1250, currency: 'EUR' },
      channel: 'online',
    });
  });

  it('a breaking change to the current schema without a version bump fails every sample it breaks', async () => {
    const Breaking = defineEvent('MoneyDeposited', {
      version: 3,
      schema: MoneyDeposited.schema.extend({ reference: z.string() }),
    });
    const report = await verifyGoldenSamples({
      dir: golden,
      events: [Breaking, AccountOpened],
      upcasters: freshUpcasters(),
    });
    expect(report.ok).toBe(false);
    expect(report.samples.filter((s) => !s.ok).map((s) => s.file)).toEqual([
      'FundsAdded/v1.json',
      'MoneyDeposited/v1.json',
      'MoneyDeposited/v2.json',
      'MoneyDeposited/v3.json',
    ]);
    for (const problem of report.problems) expect(problem).toContain('reference');
    await expect(
      expectGoldenSamplesValid({
        dir: golden,
        events: [Breaking, AccountOpened],
        upcasters: freshUpcasters(),
      }),
    ).rejects.toThrow(/4 golden sample problem\(s\)[\s\S]*MoneyDeposited\/v3\.json: Event MoneyDeposited/);
  });

  it('an upcaster that no longer fits its stored shape fails the old samples with UpcastFailed', async () => {
    const broken = new UpcasterRegistry()
      .register(upcasters.step('FundsAdded', 1)!)
      .register({
        type: 'MoneyDeposited',
        from: 1,
        to: 2,
        up: (d: { accountId: string }) => ({ accountId: d.accountId }),
      })
      .register(upcasters.step('MoneyDeposited', 2)!);
    const report = await verifyGoldenSamples({ dir: golden, events: moneyEvents, upcasters: broken });
    const failed = report.samples.filter((s) => !s.ok);
    expect(failed.map((s) => s.file)).toEqual(['FundsAdded/v1.json', 'MoneyDeposited/v1.json']);
    for (const sample of failed) expect(sample.error).toMatchObject({ code: 'UPCAST_FAILED', toVersion: 3 });
  });

  it('accepts the EventRegistry a store uses instead of definitions and upcasters', async () => {
    const report = await verifyGoldenSamples({
      dir: golden,
      events: new EventRegistry({ events: moneyEvents, upcasters }),
    });
    expect(report.ok).toBe(true);
    expect(report.samples).toHaveLength(5);
  });
});

describe('golden samples: problems are reported, never skipped', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  async function folder(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'annals-golden-'));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, name)), { recursive: true });
      await writeFile(join(dir, name), text);
    }
    return dir;
  }

  it('misnamed files, unknown types, bad JSON, versions above the current one, stray metadata', async () => {
    const dir = await folder({
      'notes.md': 'ignored',
      'MoneyDeposited/.keep': '',
      'stray.json': '{}',
      'MoneyDeposited/v1.jsn': '{}',
      'MoneyDeposited/V2.json': '{}',
      'MoneyDeposited/v2.metadata.json': '{}',
      'MoneyDeposited/v4.json':
        '{ "accountId": "a", "amount": { "value": 1, "currency": "EUR" }, "channel": "online" }',
      'MoneyDeposited/v3.json': '{ "accountId": "a", ',
      'Ghost/v1.json': '{}',
      'AccountOpened/v1.json': '{ "accountId": "a", "owner": "Ada" }',
    });
    const report = await verifyGoldenSamples({ dir, events: moneyEvents, upcasters });
    expect(report.ok).toBe(false);
    const text = report.problems.join('\n');
    expect(text).toContain('stray.json: not a sample');
    expect(text).toContain('MoneyDeposited/v1.jsn: not a sample');
    expect(text).toContain('MoneyDeposited/V2.json: not a sample');
    expect(text).toContain('MoneyDeposited/v2.metadata.json: metadata without its sample');
    expect(text).toContain('MoneyDeposited/v3.json: MoneyDeposited/v3.json is not valid JSON');
    expect(text).toContain('MoneyDeposited/v4.json: ');
    expect(text).toContain('Ghost/v1.json: no event definition has type Ghost');
    expect(text).not.toContain('notes.md');
    expect(text).not.toContain('.keep');
    expect(report.samples.find((s) => s.file === 'AccountOpened/v1.json')?.ok).toBe(true);
    expect(report.problems).toHaveLength(7);
  });

  it("require: 'current' reports the current version of each defined type without a sample; 'every-version' also each stored version", async () => {
    const dir = await folder({ 'AccountOpened/v1.json': '{ "accountId": "a", "owner": "Ada" }' });
    expect(await verifyGoldenSamples({ dir, events: moneyEvents, upcasters })).toMatchObject({
      ok: true,
      missing: [],
    });
    const current = await verifyGoldenSamples({ dir, events: moneyEvents, upcasters, require: 'current' });
    expect(current.missing).toEqual([{ type: 'MoneyDeposited', version: 3 }]);
    expect(current.problems).toEqual([
      'MoneyDeposited/v3.json: missing; add a stored example of MoneyDeposited v3.',
    ]);
    const every = await verifyGoldenSamples({
      dir,
      events: moneyEvents,
      upcasters,
      require: 'every-version',
    });
    expect(every.missing).toEqual([
      { type: 'FundsAdded', version: 1 },
      { type: 'MoneyDeposited', version: 1 },
      { type: 'MoneyDeposited', version: 2 },
      { type: 'MoneyDeposited', version: 3 },
    ]);
  });

  it('a missing folder and a broken chain are problems, not passes', async () => {
    const missing = await verifyGoldenSamples({
      dir: join(tmpdir(), 'annals-golden-does-not-exist'),
      events: moneyEvents,
      upcasters,
    });
    expect(missing.ok).toBe(false);
    expect(missing.problems[0]).toContain('cannot be read');
    const dir = await folder({});
    const chain = await verifyGoldenSamples({ dir, events: moneyEvents, upcasters: new UpcasterRegistry() });
    expect(chain.ok).toBe(false);
    expect(chain.problems[0]).toContain('the event definitions and upcasters cannot be used');
    expect(chain.problems[0]).toContain('MoneyDeposited');
  });
});
