import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AnnalsConsole, consoleListener, createConsole } from '@annals/console';
import { InvalidArgument, type RecordedEvent, uuidv7 } from '@annals/core';
import { PostgresDeadLetterStore, PostgresEventStore, PostgresProjectionRunner } from '@annals/postgres';
import type { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { consoleConfig } from '../console/fixtures/console.config.js';
import { type Seeded, seedBank } from '../console/support/seed.js';
import { startPGlite } from '../support/pglite.js';

// The console's HTTP API in process, on PGlite, without a browser (test/console drives the pages).
const schema = 'console_api';
const secret = 'api-secret-0123456789abcdef';
const config = consoleConfig(schema);
const silent = { info: () => {}, error: () => {} };

let pglite: PGlite;
let store: PostgresEventStore;
let seeded: Seeded;
let web: AnnalsConsole;
let readOnly: AnnalsConsole;

beforeAll(async () => {
  pglite = await startPGlite();
  const seeding = await PostgresEventStore.create({ pglite: pglite as never }, { schema });
  await seeding.migrate();
  seeded = await seedBank(seeding, 2);
  await seeding.close();
  store = await PostgresEventStore.create({ pglite: pglite as never }, config.store);
  web = await createConsole({
    store,
    projections: config.projections,
    aggregates: config.aggregates,
    tokens: [{ label: 'ops', secret }],
    logger: silent,
  });
  readOnly = await createConsole({ store, projections: config.projections, logger: silent });
});

afterAll(async () => {
  await web?.close();
  await readOnly?.close();
  await store?.close();
  await pglite?.close();
});

async function call(
  console: AnnalsConsole,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: any }> {
  const response = await console.fetch(new Request(`http://console.test${path}`, init));
  return { status: response.status, body: await response.json() };
}

describe('the console API', () => {
  it('answers a stream page with each event as stored and as read', async () => {
    const { status, body } = await call(web, '/api/stream?id=BankAccount-acc-1&from=1&limit=1');
    expect(status).toBe(200);
    expect(body).toMatchObject({ lastRevision: '2', aggregateType: 'BankAccount' });
    expect(body.events).toHaveLength(1);
    expect(body.events[0]).toMatchObject({
      id: seeded.oldDepositId,
      revision: '1',
      stored: { type: 'MoneyDeposited', schemaVersion: 1, data: { accountId: 'acc-1', amount: 70 } },
      read: { type: 'MoneyDeposited', schemaVersion: 2, data: { amount: { value: 70, currency: 'EUR' } } },
    });
  });

  it('loads the aggregate of a stream at a revision', async () => {
    const { body } = await call(web, '/api/state?stream=BankAccount-acc-1&revision=1');
    expect(body.state).toMatchObject({ aggregateType: 'BankAccount', aggregateId: 'acc-1', revision: '1' });
    expect(body.state.state).toMatchObject({ owner: 'Ada', balance: 70 });
    const beyond = await call(web, '/api/state?stream=BankAccount-acc-1&revision=9');
    expect(beyond).toMatchObject({ status: 400, body: { error: { code: 'INVALID_ARGUMENT' } } });
  });

  it('answers bad input with a typed error naming what was expected', async () => {
    expect(await call(web, '/api/stream?id=BankAccount-acc-1&from=-1')).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('from expects') } },
    });
    expect(await call(web, '/api/stream?id=nowhere')).toMatchObject({
      status: 404,
      body: { error: { code: 'STREAM_NOT_FOUND' } },
    });
    expect(await call(web, '/api/event?id=not-a-uuid')).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('UUID') } },
    });
    expect(await call(web, '/api/streams?limit=0')).toMatchObject({ status: 400 });
    expect(
      await call(web, '/api/projections/rebuild?name=nope', {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}` },
      }),
    ).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringContaining('balances, owners') } },
    });
  });

  it('refuses actions on a read-only console (403) and without a known token (401); nothing starts', async () => {
    const post = (console: AnnalsConsole, headers: Record<string, string>) =>
      call(console, '/api/projections/rebuild?name=balances', { method: 'POST', headers });
    expect(await post(readOnly, { authorization: `Bearer ${secret}` })).toMatchObject({
      status: 403,
      body: { error: { code: 'ACTION_REFUSED' } },
    });
    expect(await post(web, {})).toMatchObject({ status: 401, body: { error: { code: 'ACTION_REFUSED' } } });
    expect(await post(web, { authorization: 'Bearer wrong-secret-0123456789' })).toMatchObject({
      status: 401,
    });
    expect((await call(web, '/api/rebuilds')).body.rebuilds).toEqual([]);
  });

  it("rebuilds a projection on the application's runner when it runs it, which goes on live", async () => {
    const runner = new PostgresProjectionRunner({ store, projections: [config.projections[0]!] });
    await runner.start();
    const rebuild = vi.spyOn(runner, 'rebuild');
    const mounted = await createConsole({
      store,
      projections: config.projections,
      runners: [runner],
      tokens: [{ label: 'ops', secret }],
      logger: silent,
    });
    try {
      const started = await call(mounted, '/api/projections/rebuild?name=balances', {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}` },
      });
      expect(started.status).toBe(202);
      await expect
        .poll(async () => (await call(mounted, '/api/rebuilds')).body.rebuilds[0]?.state, { timeout: 60_000 })
        .toBe('done');
      expect(rebuild).toHaveBeenCalledWith('balances', expect.anything());
      expect(runner.status()[0]).toMatchObject({ name: 'balances', state: 'running' });
    } finally {
      await mounted.close();
      await runner.stop();
    }
  });

  it('pauses and resumes through the projection control; refuses an unknown name and resuming one not paused', async () => {
    const post = (path: string, headers: Record<string, string> = { authorization: `Bearer ${secret}` }) =>
      call(web, path, { method: 'POST', headers });
    expect(await post('/api/projections/pause?name=balances', {})).toMatchObject({ status: 401 });
    expect(await post('/api/projections/pause?name=balance')).toMatchObject({
      status: 400,
      body: {
        error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('no projection named balance') },
      },
    });
    expect(await post('/api/projections/resume?name=balances')).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringContaining('is not paused') } },
    });
    expect(await post('/api/projections/pause?name=balances')).toMatchObject({ status: 200 });
    const paused = (await call(web, '/api/projections')).body.projections.find(
      (p: { key: string }) => p.key === 'balances',
    );
    expect(paused).toMatchObject({ state: 'paused' });
    expect(await post('/api/projections/resume?name=balances')).toMatchObject({ status: 200 });
    expect(
      (await call(web, '/api/projections')).body.projections.find(
        (p: { key: string }) => p.key === 'balances',
      ),
    ).not.toMatchObject({ state: 'paused' });
  });

  it('answers an unknown dead letter id with INVALID_ARGUMENT, for a read and for an action', async () => {
    expect(await call(web, '/api/dead-letter?id=999999')).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'INVALID_ARGUMENT',
          message: expect.stringContaining('No dead letter with id 999999'),
        },
      },
    });
    expect(
      await call(web, '/api/dead-letters/discard?id=999999', {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}` },
      }),
    ).toMatchObject({ status: 400, body: { error: { code: 'INVALID_ARGUMENT' } } });
  });

  it('answers a retry whose handler fails again with 422 PROJECTION_FAILED and keeps the letter', async () => {
    let event: RecordedEvent | undefined;
    for await (const stored of store.readStream('BankAccount-poison')) event ??= stored;
    const letters = new PostgresDeadLetterStore(store);
    await letters.record({
      projection: 'owners',
      key: 'owners',
      eventId: event!.id,
      eventType: event!.type,
      streamId: event!.streamId,
      position: event!.position,
      error: 'Error: owner refused: poison',
      attempts: 1,
      recordedAt: new Date(),
    });
    const [letter] = await letters.list('owners');
    try {
      const retried = await call(web, `/api/dead-letters/retry?id=${letter!.id}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}` },
      });
      expect(retried).toMatchObject({
        status: 422,
        body: {
          error: {
            code: 'PROJECTION_FAILED',
            message: expect.stringContaining('owner refused: poison'),
          },
        },
      });
      expect(await letters.get(letter!.id), 'the letter after the failed retry').toBeDefined();
    } finally {
      await letters.remove(letter!.id);
    }
  });

  it('refuses a token without a label or with a short secret', async () => {
    await expect(createConsole({ store, tokens: [{ label: 'ops', secret: 'short' }] })).rejects.toThrow(
      InvalidArgument,
    );
    await expect(createConsole({ store, tokens: [{ label: '', secret }] })).rejects.toThrow(InvalidArgument);
  });

  it('serves under a base path', async () => {
    const mounted = await createConsole({ store, basePath: '/ops/console/', logger: silent });
    try {
      expect((await call(mounted, '/ops/console/api/info')).status).toBe(200);
      expect((await mounted.fetch(new Request('http://console.test/api/info'))).status).toBe(404);
    } finally {
      await mounted.close();
    }
    await expect(createConsole({ store, basePath: '/a b' })).rejects.toThrow(InvalidArgument);
  });

  it('streams appended events as server-sent events, and resumes after Last-Event-ID', async () => {
    const controller = new AbortController();
    const response = await web.fetch(
      new Request('http://console.test/api/live?recent=1', { signal: controller.signal }),
    );
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const until = async (condition: () => boolean) => {
      while (!condition()) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended; received: ${text}`);
        text += value;
      }
    };
    const id = uuidv7();
    try {
      await until(() => text.includes('event: ready'));
      await store.append('BankAccount-sse', [
        {
          id,
          type: 'AccountOpened',
          data: { accountId: 'sse', owner: 'Sse', currency: 'EUR', overdraftLimit: 0 },
        },
      ]);
      await until(() => text.includes(id));
    } finally {
      controller.abort();
      await reader.cancel().catch(() => {});
    }
    const appends = text
      .split('\n\n')
      .filter((block) => block.includes('event: append'))
      .map((block) => ({
        id: /^id: (\d+)$/m.exec(block)![1]!,
        event: JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as { id: string; position: string },
      }));
    // The latest event first (recent=1), then the appended one, each with its position as id.
    expect(appends.map((a) => a.event.id).at(-1)).toBe(id);
    expect(appends.length).toBe(2);
    expect(appends.every((a) => a.id === a.event.position)).toBe(true);

    // Reconnecting with the first one's position as Last-Event-ID resumes with the second.
    const resumed = await web.fetch(
      new Request('http://console.test/api/live', { headers: { 'last-event-id': appends[0]!.id } }),
    );
    const again = resumed.body!.pipeThrough(new TextDecoderStream()).getReader();
    let more = '';
    try {
      while (!more.includes('event: append')) {
        const { value, done } = await again.read();
        if (done) break;
        more += value;
      }
    } finally {
      await again.cancel().catch(() => {});
    }
    expect(more).toContain(id);
  });
});

describe('the console mounted in a Node HTTP server', () => {
  it('answers under its base path and leaves the other paths to the application', async () => {
    const { projections, aggregates } = config;
    // #region mount
    const web = await createConsole({
      store, // the application's PostgresEventStore
      projections, // those whose lag, rebuild and dead-letter retry it offers
      aggregates, // those whose state it shows at a revision
      tokens: [{ label: 'ops', secret }], // omit them: read-only
      logger: console,
      basePath: '/console',
    });
    const listener = consoleListener(web);
    const server = createServer((req, res) => {
      if (req.url === '/console' || req.url?.startsWith('/console/')) return listener(req, res);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('the application');
    });
    // #endregion mount
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const info = await fetch(`${base}/console/api/info`);
      expect(info.status).toBe(200);
      expect(await info.json()).toMatchObject({
        actionsAllowed: true,
        projections: ['balances', 'owners'],
        aggregates: ['BankAccount'],
      });
      expect(info.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await (await fetch(`${base}/other`)).text()).toBe('the application');
      // The page's asset URLs are relative: /console leads to /console/.
      const page = await fetch(`${base}/console`, { redirect: 'manual' });
      expect(page.status).toBe(301);
      expect(page.headers.get('location')).toBe('/console/');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await web.close();
    }
  });
});
