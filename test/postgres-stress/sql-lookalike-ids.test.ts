import { type EventStore, isAnnalsError, type RecordedEvent } from '@annals/core';
import { toArray } from '@annals/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from './support/open-store.js';
import { databaseUrl, dropSchema } from './support/server.js';

const SCHEMA = 'annals_stress_sql_lookalike';

/** Stream ids and event types that break a store which builds SQL from strings or forgets to escape. */
const nasty = [
  `'; DROP TABLE events; --`,
  `"; DROP SCHEMA ${SCHEMA} CASCADE; --`,
  `Robert'); DELETE FROM streams; --`,
  `it''s "quoted" 'twice'`,
  "back\\slash\\'quote\\\\",
  "E'\\x41' \\n \\t",
  '$1 $$ dollar $tag$ ? :name',
  '%_ like wildcards *',
  'line\nbreak\ttab\r',
  '  leading and trailing  ',
  'Zürich-帳簿-עברית-e\u0301-🧾-👩‍👩‍👧',
  '\u{10FFFF}\uFEFF\u200B',
  '/* comment */ SELECT pg_sleep(10)',
];

describe.skipIf(!databaseUrl)('PostgresEventStore: stream ids and types that look like SQL', () => {
  let store: EventStore;

  beforeAll(async () => {
    await dropSchema(SCHEMA);
    store = await openStore(SCHEMA);
  });

  afterAll(async () => {
    await store?.close();
    await dropSchema(SCHEMA);
  });

  it('stores and reads back every stream id, type, data key and value verbatim', async () => {
    for (const [i, text] of nasty.entries()) {
      const data = { [text]: text, nested: { list: [text, i] } };
      const metadata = { correlationId: text, [text]: text };
      await store.append(text, [{ type: text, data, metadata }], { expectedRevision: 'no_stream' });
      await store.append(text, [{ type: `${text}-second`, data: { text } }], { expectedRevision: 0n });
    }

    for (const text of nasty) {
      const events = await toArray(store.readStream(text));
      const shown = JSON.stringify(text);
      expect(
        events.map((e) => e.streamId),
        `stream ${shown} read back other stream ids`,
      ).toEqual([text, text]);
      expect(
        events.map((e) => e.type),
        `stream ${shown} read back other types`,
      ).toEqual([text, `${text}-second`]);
      expect(events[0]!.data, `stream ${shown} read back other data`).toEqual({
        [text]: text,
        nested: { list: [text, nasty.indexOf(text)] },
      });
      expect(events[0]!.metadata[text], `stream ${shown} read back other metadata`).toBe(text);
      expect(events[0]!.metadata.correlationId, `stream ${shown} lost its correlation id`).toBe(text);
    }

    const all = await toArray(store.readAll());
    expect(all.length, 'the global log lost or gained events (did some id run as SQL?)').toBe(
      nasty.length * 2,
    );
    expect(new Set(all.map((e) => e.streamId)), 'the global log holds other stream ids').toEqual(
      new Set(nasty),
    );
  });

  it('filters by types that look like SQL exactly, without treating them as patterns', async () => {
    for (const text of nasty) {
      const byType = await toArray(store.readAll({ filter: { types: [text] } }));
      expect(
        byType.map((e) => `${e.streamId}/${e.type}`),
        `filter types=[${JSON.stringify(text)}] matched other events`,
      ).toEqual([`${text}/${text}`]);
    }
  });

  it('treats a stream prefix literally: LIKE wildcards, backslashes and quotes match only themselves', async () => {
    const streams = [
      'pct%x-1',
      'pctAx-2',
      'under_score-1',
      'underXscore-2',
      'back\\slash-1',
      'backXslash-2',
      "quote'd-1",
      'quote-2',
    ];
    for (const id of streams) await store.append(id, [{ type: 'Probe', data: { id } }]);

    const cases: [prefix: string, expected: string[]][] = [
      ['pct%', ['pct%x-1']],
      ['under_', ['under_score-1']],
      ['back\\', ['back\\slash-1', "back\\slash\\'quote\\\\"]],
      ["quote'", ["quote'd-1"]],
      ['%', ['%_ like wildcards *']],
      ['_', []],
    ];
    for (const [prefix, expected] of cases) {
      const matched = await toArray(store.readAll({ filter: { streamPrefix: prefix } }));
      expect(
        [...new Set(matched.map((e) => e.streamId))].sort(),
        `streamPrefix ${JSON.stringify(prefix)} matched other streams`,
      ).toEqual(expected.sort());
    }
  });

  it('delivers a subscription to a stream whose id looks like SQL', async () => {
    const text = nasty[0]!;
    const subscription = store.subscribeToStream(text);
    const received: RecordedEvent[] = [];
    for await (const e of subscription) {
      received.push(e);
      if (received.length === 2) break;
    }
    expect(
      received.map((e) => [e.streamId, e.revision]),
      'the subscription delivered other events',
    ).toEqual([
      [text, 0n],
      [text, 1n],
    ]);
  });

  it('refuses a NUL character, which PostgreSQL text cannot hold, with a typed error and writes nothing', async () => {
    const before = (await toArray(store.readAll())).length;
    let accepted = 0;
    for (const [what, streamId, event] of [
      ['stream id', 'nul\u0000id', { type: 'Probe', data: {} }],
      ['type', 'nul-type', { type: 'Pro\u0000be', data: {} }],
      ['data', 'nul-data', { type: 'Probe', data: { text: 'a\u0000b' } }],
    ] as const) {
      try {
        await store.append(streamId, [event]);
      } catch (error) {
        expect(
          isAnnalsError(error),
          `a NUL in the ${what} raised a raw error instead of an AnnalsError: ${String(error)}`,
        ).toBe(true);
        continue;
      }
      // Accepted: then it must read back verbatim, never altered.
      accepted++;
      const stored = await toArray(store.readStream(streamId));
      expect(
        stored.map((e) => [e.streamId, e.type, e.data]),
        `a NUL in the ${what} was altered`,
      ).toEqual([[streamId, event.type, event.data]]);
    }
    const after = await toArray(store.readAll());
    expect(after.length - before, 'refused appends left events behind').toBe(accepted);
    await store.append('after-nul', [{ type: 'Probe', data: {} }], { expectedRevision: 'no_stream' });
  });
});
