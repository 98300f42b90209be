import { type AnnalsConsole, createConsole, type ServedConsole, serveConsole } from '@annals/console';
import { uuidv7 } from '@annals/core';
import { PostgresEventStore, PostgresProjectionControl, PostgresProjectionRunner } from '@annals/postgres';
import type { PGlite } from '@electric-sql/pglite';
import { sql } from 'kysely';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPGlite } from '../support/pglite.js';
import { acceptedOwners, consoleConfig, healOwners, holdBalances } from './fixtures/console.config.js';
import { launchBrowser, markPage, screenshot, xssMarker } from './support/browser.js';
import { type Seeded, seedBank, XSS } from './support/seed.js';

// The console in this process, on PGlite, driven in headless Chromium.
const schema = 'console_test';
const secret = 'ops-secret-0123456789abcdef';
const config = consoleConfig(schema);
const owners = config.projections[1];

interface Logged {
  readonly message: string;
  readonly details: Record<string, unknown> | undefined;
}

let pglite: PGlite;
let store: PostgresEventStore;
let seeded: Seeded;
let web: AnnalsConsole;
let served: ServedConsole;
let readOnly: ServedConsole;
let browser: Browser;
const logged: Logged[] = [];

beforeAll(async () => {
  pglite = await startPGlite();
  // Seeded as stored (no definitions): a deposit stays at v1 in the log.
  const seeding = await PostgresEventStore.create({ pglite: pglite as never }, { schema });
  await seeding.migrate();
  seeded = await seedBank(seeding, 30);
  await seeding.close();
  store = await PostgresEventStore.create({ pglite: pglite as never }, config.store);
  // The owners projection skips the poison account's event: one dead letter.
  const runner = new PostgresProjectionRunner({ store, projections: [owners!] });
  await runner.start();
  await runner.waitUntilCaughtUp();
  await runner.stop();
  const logger = {
    info: (message: string, details?: Record<string, unknown>) => logged.push({ message, details }),
    error: (message: string, details?: Record<string, unknown>) => logged.push({ message, details }),
  };
  web = await createConsole({
    store,
    projections: config.projections,
    aggregates: config.aggregates,
    tokens: [{ label: 'ops', secret }],
    logger,
  });
  served = await serveConsole(web, { port: 0 });
  readOnly = await serveConsole(await createConsole({ store, projections: config.projections, logger }), {
    port: 0,
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await served?.close();
  await readOnly?.close();
  await store?.close();
  await pglite?.close();
});

async function open(path: string, base = served.url): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.setDefaultTimeout(60_000);
  await page.goto(`${base}#${path}`);
  return page;
}

/** The text of the element `selector` matches (one), once it is visible. */
async function textOf(page: Page, selector: string): Promise<string> {
  const locator = page.locator(selector);
  await locator.first().waitFor({ state: 'visible' });
  return (await locator.first().textContent()) ?? '';
}

describe('the console on PGlite, in a browser', () => {
  it('browses streams: search by prefix, pages of events, versions stored and read, aggregate state, correlation links', async () => {
    const page = await open('/');
    await page.fill('input[name=prefix]', 'BankAccount-acc-1');
    await page.click('form.search button');
    await page.locator('table.streams a', { hasText: 'BankAccount-acc-19' }).waitFor();
    const listed = await page.locator('table.streams a').allTextContents();
    expect(listed).toContain('BankAccount-acc-1');
    expect(listed.every((id) => id.startsWith('BankAccount-acc-1'))).toBe(true);
    await page.locator('table.streams a', { hasText: /^BankAccount-acc-1$/ }).click();

    const old = page.locator(`article[data-event-id="${seeded.oldDepositId}"]`);
    await old.waitFor();
    expect(await page.locator('article.event').count()).toBe(3);
    const oldText = (await old.textContent()) ?? '';
    expect(oldText).toContain('stored asMoneyDeposited v1');
    expect(oldText).toContain('read asMoneyDeposited v2 (upcast)');
    expect(await old.locator('pre[data-json="data as read"]').textContent()).toContain('"currency": "EUR"');

    // The aggregate's state, at the last revision and then at revision 1.
    expect(await textOf(page, 'pre[data-json="aggregate state"]')).toContain('"balance": 100');
    await page.fill('input[name=revision]', '1');
    await page.click('.aggregate-state button');
    await expect
      .poll(() => page.locator('pre[data-json="aggregate state"]').textContent(), { timeout: 30_000 })
      .toContain('"balance": 70');
    await screenshot(page, 'stream');

    // The causation id links to the event it names.
    await page
      .locator(`article[data-event-id="${seeded.causedId}"] dd a`, { hasText: seeded.oldDepositId })
      .click();
    await page.locator('h2', { hasText: 'Event' }).waitFor();
    expect(page.url()).toContain(`#/events/${seeded.oldDepositId}`);
    expect(await page.locator('article.event').getAttribute('data-event-id')).toBe(seeded.oldDepositId);

    // A stream longer than a page: revisions 0 to 19, then 20 to 24.
    await page.goto(`${served.url}#/streams/BankAccount-busy`);
    await page.locator('article.event').first().waitFor();
    expect(await page.locator('article.event').count()).toBe(20);
    await page.locator('nav.pager a', { hasText: 'Next' }).first().click();
    await page.locator('article.event[data-position]').first().waitFor();
    await expect.poll(() => page.locator('article.event').count(), { timeout: 30_000 }).toBe(5);
    expect(await page.locator('article.event .where').first().textContent()).toBe('BankAccount-busy@20');
    await page.close();
  });

  it('the live log shows an event appended meanwhile, without a reload', async () => {
    const page = await open('/live');
    await page.locator('.live-state.live').waitFor();
    // The recent events come first.
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
    expect(await page.locator('article.event').first().getAttribute('data-event-id')).toBe(id);
    expect(await samePage()).toBe(true);
    await screenshot(page, 'live');
    await page.close();
  });

  it('a rebuild is refused without the token; with it, its progress shows until it is done', async () => {
    const page = await open('/projections');
    const rebuild = page.locator('li[data-projection="balances"] button.rebuild');
    await rebuild.click();
    expect(await textOf(page, 'p.error[role=alert]')).toContain('ACTION_REFUSED');
    expect(await page.locator('.rebuild-job').count()).toBe(0);
    expect(logged.find((l) => l.details?.outcome === 'refused')?.details).toMatchObject({
      who: 'unknown',
      action: 'rebuild',
      target: { projection: 'balances' },
      reason: 'token',
    });

    // Hold the rebuild inside its 11th event (after two batches of 5, or fewer and smaller ones)
    // until the page has shown its progress. The progress comes from memory, so it shows while the
    // held batch keeps PGlite's one connection.
    let applied = 0;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    holdBalances(async () => {
      applied++;
      if (applied > 10) await released;
    });
    try {
      await page.fill('input[name=token]', secret);
      await rebuild.click();
      const running = page.locator(
        '.rebuild-job[data-projection="balances"][data-state="running"] .progress-text',
      );
      await running.waitFor();
      const shown = /^(\d+)\/(\d+) events/.exec((await running.textContent()) ?? '');
      expect(shown, 'the running rebuild shows done/total').not.toBeNull();
      const [done, total] = [Number(shown![1]), Number(shown![2])];
      expect(done).toBeGreaterThan(0);
      expect(done).toBeLessThanOrEqual(10);
      expect(total).toBeGreaterThanOrEqual(seeded.balanceEvents);
      await screenshot(page, 'rebuild');
      release();
      const finished = page.locator(
        '.rebuild-job[data-projection="balances"][data-state="done"] .progress-text',
      );
      await expect
        .poll(() => finished.textContent(), { timeout: 60_000 })
        .toMatch(new RegExp(`^${total}/${total} events`));
    } finally {
      release();
      holdBalances(async () => {});
    }
    // The read model was rebuilt from the whole log: acc-1 holds 70 (stored at v1) + 30.
    const row = await sql<{
      balance: string;
    }>`select balance::text from ${sql.id(schema, 'console_balances')} where account = 'acc-1'`.execute(
      store.kysely,
    );
    expect(row.rows[0]?.balance).toBe('100');
    expect(logged.filter((l) => l.details?.who === 'ops').map((l) => l.details?.outcome)).toEqual([
      'ok',
      'finished',
    ]);
    expect(logged.find((l) => l.details?.who === 'ops')?.details).toMatchObject({
      action: 'rebuild',
      target: { projection: 'balances' },
    });
    await page.close();
  });

  it('a read-only console refuses every action, token or not', async () => {
    const page = await open('/projections', readOnly.url);
    await page.locator('text=This console is read-only').waitFor();
    const answer = await page.evaluate(async (token) => {
      const response = await fetch('api/projections/rebuild?name=balances', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: response.status, body: await response.json() };
    }, secret);
    expect(answer).toMatchObject({ status: 403, body: { error: { code: 'ACTION_REFUSED' } } });
    await page.close();
  });

  it('shows markup in event data and metadata as text, and runs none of it', async () => {
    const page = await open('/streams/BankAccount-xss');
    const card = page.locator('article.event');
    await card.waitFor();
    expect(await card.locator('pre[data-json=data]').textContent()).toContain(XSS.data);
    const metadata = (await card.locator('pre[data-json=metadata]').textContent()) ?? '';
    expect(metadata).toContain(`"note": "${XSS.metadata}"`);
    expect(metadata).toContain(`"${XSS.metadata}": "as a key"`);
    expect(await card.locator('dd', { hasText: XSS.correlation }).count()).toBe(1);
    expect(await page.locator('main img, main script').count()).toBe(0);
    expect(await xssMarker(page)).toBeUndefined();
    await screenshot(page, 'markup-as-text');

    // The live log renders the same event through the same components.
    await page.goto(`${served.url}#/live`);
    await page.locator('.live-state.live').waitFor();
    await page.locator('article.event', { hasText: XSS.data }).waitFor();
    expect(await page.locator('main img, main script').count()).toBe(0);
    expect(await xssMarker(page)).toBeUndefined();
    await page.close();
  });

  it('shows projections and health', async () => {
    const page = await open('/projections');
    const row = page.locator('table.projections tr[data-key="owners"]');
    await row.waitFor();
    // The owners projection ran to the end of the log when the file started, skipping two events.
    expect(await row.locator('td').nth(7).textContent()).toBe('2');
    await screenshot(page, 'projections');
    await page.goto(`${served.url}#/health`);
    expect(await textOf(page, 'dl.health')).toContain(`${schema} at`);
    expect(await page.locator('dl.health').textContent()).toContain('(up to date)');
    expect(await page.locator('dl.health').textContent()).toContain('horizon');
    await page.close();
  });

  it('lists dead letters, shows one with its error and event, discards one and retries the other', async () => {
    const page = await open('/dead-letters');
    const rows = page.locator('table.dead-letters tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(2);
    const first = page.locator('table.dead-letters a').first();
    await first.click();
    expect(await textOf(page, 'pre.error-text')).toContain('owner refused: poison');
    expect(await page.locator('article.event .where').textContent()).toBe('BankAccount-poison@0');
    await screenshot(page, 'dead-letter');

    // Without the token, refused and kept.
    await page.click('button.discard');
    expect(await textOf(page, 'p.error[role=alert]')).toContain('ACTION_REFUSED');
    await page.fill('input[name=token]', secret);
    await page.click('button.discard');
    await page.locator('h2', { hasText: 'Dead letters' }).waitFor();
    await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(1);

    // The second fails again until the projection accepts its event; then its retry applies it.
    await page.locator('table.dead-letters a').first().click();
    await page.click('button.retry');
    expect(await textOf(page, 'p.error[role=alert]')).toContain('owner refused: poison');
    healOwners();
    await page.click('button.retry');
    await page.locator('h2', { hasText: 'Dead letters' }).waitFor();
    await page.locator('text=None.').waitFor();
    expect(acceptedOwners).toContain('poison-2:poison');
    expect(acceptedOwners).not.toContain('poison:poison');
    const actions = logged.filter((l) => String(l.details?.action).startsWith('dead-letter.'));
    expect(actions.map((l) => [l.details?.who, l.details?.action, l.details?.outcome])).toEqual([
      ['unknown', 'dead-letter.discard', 'refused'],
      ['ops', 'dead-letter.discard', 'ok'],
      ['ops', 'dead-letter.retry', 'failed'],
      ['ops', 'dead-letter.retry', 'ok'],
    ]);
    await page.close();
  });

  it('pauses and resumes a projection', async () => {
    const page = await open('/projections');
    await page.fill('input[name=token]', secret);
    const state = page.locator('table.projections tr[data-key="owners"] td').nth(1);
    await state.waitFor();
    expect(await state.textContent()).not.toBe('paused');
    await page.click('li[data-projection="owners"] button.pause');
    await expect.poll(() => state.textContent(), { timeout: 30_000 }).toBe('paused');
    expect(await new PostgresProjectionControl(store).isPaused('owners')).toBe(true);
    await page.click('li[data-projection="owners"] button.resume');
    await expect.poll(() => state.textContent(), { timeout: 30_000 }).not.toBe('paused');
    expect(await new PostgresProjectionControl(store).isPaused('owners')).toBe(false);
    expect(
      logged
        .filter((l) => ['pause', 'resume'].includes(String(l.details?.action)))
        .map((l) => [l.details?.who, l.details?.action, l.details?.outcome]),
    ).toEqual([
      ['ops', 'pause', 'ok'],
      ['ops', 'resume', 'ok'],
    ]);
    await page.close();
  });
});
