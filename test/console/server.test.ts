import { fileURLToPath } from 'node:url';
import { uuidv7 } from '@annals/core';
import { PostgresEventStore } from '@annals/postgres';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl, RunningCli, serverSchema } from '../cli/support/cli.js';
import { launchBrowser, markPage, screenshot, xssMarker } from './support/browser.js';
import { type Seeded, seedBank, XSS } from './support/seed.js';

// `annals console` spawned against the PostgreSQL server (DATABASE_URL), in a schema of its own,
// driven in headless Chromium.
const config = fileURLToPath(new URL('./fixtures/console.config.ts', import.meta.url));
const secret = 'server-secret-0123456789abcdef';

describe.skipIf(databaseUrl === undefined)('annals console on a server, in a browser', () => {
  const schema = serverSchema();
  let store: PostgresEventStore;
  let seeded: Seeded;
  let cli: RunningCli;
  let url: string;
  let browser: Browser;

  beforeAll(async () => {
    // Seeded as stored (no definitions): a deposit stays at v1 in the log.
    store = await PostgresEventStore.create({ connectionString: databaseUrl! }, { schema: schema.name });
    await store.migrate();
    seeded = await seedBank(store, 30);
    cli = new RunningCli(
      ['--config', config, 'console', '--port', '0', '--allow-actions', '--token', `ops=${secret}`],
      { env: { DATABASE_URL: databaseUrl, ANNALS_SCHEMA: schema.name } },
    );
    await cli.waitFor('it listens', (c) => /annals console on (http:\S+)/.test(c.stdout));
    url = /annals console on (http:\S+)/.exec(cli.stdout)![1]!;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    if (cli !== undefined) {
      cli.child.kill('SIGINT');
      await cli.exited;
    }
    await store?.close();
    await schema.drop();
  });

  async function open(path: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.setDefaultTimeout(60_000);
    await page.goto(`${url}#${path}`);
    return page;
  }

  it('browses a stream: versions stored and read, the aggregate state at a revision', async () => {
    const page = await open('/');
    await page.fill('input[name=prefix]', 'BankAccount-acc-1');
    await page.click('form.search button');
    await page.locator('table.streams a', { hasText: /^BankAccount-acc-1$/ }).click();
    const old = page.locator(`article[data-event-id="${seeded.oldDepositId}"]`);
    await old.waitFor();
    expect(await old.textContent()).toContain('read asMoneyDeposited v2 (upcast)');
    await page.fill('input[name=revision]', '1');
    await page.click('.aggregate-state button');
    await expect
      .poll(() => page.locator('pre[data-json="aggregate state"]').textContent(), { timeout: 30_000 })
      .toContain('"balance": 70');
    await page.close();
  });

  it('the live log shows an event another process appends, without a reload', async () => {
    const page = await open('/live');
    await page.locator('.live-state.live').waitFor();
    await page.locator('article.event').first().waitFor();
    const samePage = await markPage(page);
    const id = uuidv7();
    await store.append('BankAccount-live-1', [
      {
        id,
        type: 'AccountOpened',
        data: { accountId: 'live-1', owner: 'Grace', currency: 'EUR', overdraftLimit: 0 },
      },
    ]);
    await page.locator(`article[data-event-id="${id}"]`).waitFor();
    expect(await samePage()).toBe(true);
    await page.close();
  });

  it('refuses a rebuild without the token, runs it with the token and shows its progress to the end', async () => {
    const page = await open('/projections');
    const rebuild = page.locator('li[data-projection="balances"] button.rebuild');
    await rebuild.click();
    await page.locator('p.error[role=alert]', { hasText: 'ACTION_REFUSED' }).waitFor();
    expect(await page.locator('.rebuild-job').count()).toBe(0);
    await page.fill('input[name=token]', secret);
    await rebuild.click();
    const done = page.locator('.rebuild-job[data-projection="balances"][data-state="done"] .progress-text');
    await expect.poll(() => done.textContent(), { timeout: 120_000 }).toMatch(/^(\d+)\/\1 events/);
    const total = Number(/^(\d+)\//.exec((await done.textContent()) ?? '')![1]);
    expect(total).toBeGreaterThanOrEqual(seeded.balanceEvents);
    // The action log (stderr, one JSON object per line) names who asked and what.
    await cli.waitFor('the rebuild is logged', (c) => c.stderr.includes('"outcome":"finished"'));
    const actions = cli.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(actions.map((a) => [a.who, a.action, a.outcome])).toEqual([
      ['unknown', 'rebuild', 'refused'],
      ['ops', 'rebuild', 'ok'],
      ['ops', 'rebuild', 'finished'],
    ]);
    await page.close();
  });

  it('health: names an open transaction, how long it has been open and whether it holds the horizon', async () => {
    const holder = new pg.Client({ connectionString: databaseUrl, application_name: 'console-test-holder' });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('select pg_current_xact_id()');
      const page = await open('/health');
      const row = page.locator('table.transactions tr', { hasText: 'console-test-holder' });
      await row.waitFor();
      expect(await row.locator('td').nth(2).textContent()).toBe('idle in transaction');
      expect(await page.locator('dl.health').textContent()).toContain('(up to date)');
      // The oldest open transaction in the cluster holds the horizon: this one, unless another
      // client of the shared server has one open for longer.
      expect(await page.locator('dl.health dd.holder').textContent()).toMatch(/^pid \d+ /);
      await screenshot(page, 'health');
      await page.close();
    } finally {
      await holder.query('rollback').catch(() => {});
      await holder.end();
    }
  });

  it('shows markup in event data and metadata as text, and runs none of it', async () => {
    const page = await open('/streams/BankAccount-xss');
    const card = page.locator('article.event');
    await card.waitFor();
    expect(await card.locator('pre[data-json=data]').textContent()).toContain(XSS.data);
    expect(await card.locator('pre[data-json=metadata]').textContent()).toContain(XSS.metadata);
    expect(await page.locator('main img, main script').count()).toBe(0);
    expect(await xssMarker(page)).toBeUndefined();
    await page.close();
  });
});
