import {
  defineEvent,
  type EventMetadata,
  EventRegistry,
  UpcasterRegistry,
  type UpcastFailed,
  uuidv7,
} from '@annals/core';
import type { StoredEvent } from '@annals/core/adapter';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { freshUpcasters, MoneyDeposited, moneyEvents, upcasters } from './fixtures/money-events.js';

let position = 0n;
function stored(
  type: string,
  schemaVersion: number,
  data: unknown,
  metadata: EventMetadata = {},
): StoredEvent {
  position++;
  return {
    id: uuidv7(),
    type,
    schemaVersion,
    streamId: 'account-1',
    revision: position - 1n,
    position,
    data,
    metadata,
    recordedAt: new Date(0),
  };
}

function decodeError(registry: EventRegistry, event: StoredEvent): UpcastFailed {
  try {
    registry.decode(event);
  } catch (error) {
    expect(error).toMatchObject({ name: 'UpcastFailed', code: 'UPCAST_FAILED' });
    return error as UpcastFailed;
  }
  throw new Error('Expected decode to throw UpcastFailed.');
}

describe('EventRegistry.decode: upcast, validate, freeze', () => {
  const registry = new EventRegistry({ events: moneyEvents, upcasters });

  it('reads v1, v2 and a renamed FundsAdded as MoneyDeposited v3; the metadata reaches the upcasters', () => {
    const v1 = registry.decode(
      stored('MoneyDeposited', 1, { accountId: 'a', amount: 5 }, { channel: 'web' }),
    );
    const v2 = registry.decode(
      stored('MoneyDeposited', 2, { accountId: 'a', amount: { value: 6, currency: 'GBP' } }),
    );
    const renamed = registry.decode(stored('FundsAdded', 1, { account: 'a', cents: 7 }));
    for (const e of [v1, v2, renamed]) expect([e.type, e.schemaVersion]).toEqual(['MoneyDeposited', 3]);
    expect(v1.data).toEqual({ accountId: 'a', amount: { value: 5, currency: 'EUR' }, channel: 'online' });
    expect(v2.data).toEqual({ accountId: 'a', amount: { value: 6, currency: 'GBP' }, channel: 'unknown' });
    expect(renamed.data).toEqual({
      accountId: 'a',
      amount: { value: 7, currency: 'EUR' },
      channel: 'unknown',
    });
    expect(v1.metadata).toEqual({ channel: 'web' });
  });

  it('keeps the envelope (id, stream, revision, position, recordedAt) and freezes the result deeply', () => {
    const row = stored('MoneyDeposited', 1, { accountId: 'a', amount: 5 });
    const event = registry.decode(row);
    expect(event).toMatchObject({
      id: row.id,
      streamId: row.streamId,
      revision: row.revision,
      position: row.position,
      recordedAt: row.recordedAt,
    });
    expect(Object.isFrozen(event)).toBe(true);
    expect(Object.isFrozen((event.data as { amount: object }).amount)).toBe(true);
    expect(() => {
      (event.data as { accountId: string }).accountId = 'x';
    }).toThrow(TypeError);
  });

  it('never changes the stored row: its data and type stay v1, and reading it twice gives the same result', () => {
    const row = stored('FundsAdded', 1, { account: 'a', cents: 5 });
    const first = registry.decode(row);
    const second = registry.decode(row);
    expect(row).toMatchObject({ type: 'FundsAdded', schemaVersion: 1, data: { account: 'a', cents: 5 } });
    expect(second.data).toEqual(first.data);
    expect(second).not.toBe(first);
  });

  it('an upcaster that mutates its input fails with UpcastFailed instead of rewriting the stored data', () => {
    const Counter = defineEvent('Counter', {
      version: 2,
      schema: z.object({ n: z.number(), unit: z.string() }),
    });
    const mutating = new UpcasterRegistry().register({
      type: 'Counter',
      from: 1,
      to: 2,
      up: (d: { n: number; unit?: string }) => {
        d.unit = 'pcs';
        return d;
      },
    });
    const reg = new EventRegistry({ events: [Counter], upcasters: mutating });
    const row = stored('Counter', 1, { n: 1 });
    const error = decodeError(reg, row);
    expect(error.message).toContain('the upcaster from Counter v1 threw');
    expect(row.data).toEqual({ n: 1 });
  });

  it('a result the current schema refuses is an UpcastFailed naming event id, stream, types, versions and each issue', () => {
    const broken = freshUpcasters();
    const reg = new EventRegistry({
      events: moneyEvents,
      upcasters: new UpcasterRegistry()
        .register(broken.step('FundsAdded', 1)!)
        .register({ type: 'MoneyDeposited', from: 1, to: 2, up: (d: object) => ({ ...d, amount: 'lots' }) })
        .register(broken.step('MoneyDeposited', 2)!),
    });
    const row = stored('FundsAdded', 1, { account: 'a', cents: 5 });
    const error = decodeError(reg, row);
    expect(error).toMatchObject({
      eventId: row.id,
      streamId: 'account-1',
      eventType: 'FundsAdded',
      fromVersion: 1,
      toType: 'MoneyDeposited',
      toVersion: 3,
    });
    expect(error.issues.map((i) => i.path)).toEqual([['amount']]);
    expect(error.message).toContain(row.id);
    expect(error.message).toContain('stream account-1');
    expect(error.message).toContain('from FundsAdded v1 to MoneyDeposited v3');
    expect(error.message).toContain('amount:');
  });

  it('an upcaster that throws is an UpcastFailed with the step and the cause; an async one is refused', () => {
    const Counter = defineEvent('Counter', { version: 2, schema: z.object({ n: z.number() }) });
    const boom = new Error('boom');
    const throwing = new EventRegistry({
      events: [Counter],
      upcasters: new UpcasterRegistry().register({
        type: 'Counter',
        from: 1,
        to: 2,
        up: () => {
          throw boom;
        },
      }),
    });
    const error = decodeError(throwing, stored('Counter', 1, { n: 1 }));
    expect(error.cause).toBe(boom);
    expect(error.message).toContain('the upcaster from Counter v1 threw: boom');

    const asyncReg = new EventRegistry({
      events: [Counter],
      upcasters: new UpcasterRegistry().register({ type: 'Counter', from: 1, to: 2, up: async (d) => d }),
    });
    expect(decodeError(asyncReg, stored('Counter', 1, { n: 1 })).message).toContain('must be synchronous');
  });

  it('a stored version with no chain, or newer than the definition, is an UpcastFailed, not a bad read', () => {
    const Thing = defineEvent('Thing', { version: 3, schema: z.object({ n: z.number() }) });
    const reg = new EventRegistry({
      events: [Thing],
      upcasters: new UpcasterRegistry().register({ type: 'Thing', from: 2, to: 3, up: (d) => d }),
    });
    expect(decodeError(reg, stored('Thing', 1, { n: 1 })).message).toContain(
      'no upcaster leads from Thing v1 to the current v3',
    );
    const newer = stored('Thing', 4, { n: 1 });
    const error = decodeError(reg, newer);
    expect(error.message).toBe(
      `Event ${newer.id} in stream ${newer.streamId} is stored as Thing v4, but this application defines Thing only up to v3: it was written by a newer version of the application; deploy that version, or add the definition.`,
    );
    expect(error).toMatchObject({ eventType: 'Thing', fromVersion: 4, toVersion: 4, definedVersion: 3 });
    expect(reg.decode(stored('Thing', 2, { n: 1 })).schemaVersion).toBe(3);
  });

  it('a stored version newer than any definition says plainly that a newer application wrote it', () => {
    const Deposited = defineEvent('Deposited', { version: 3, schema: z.object({ n: z.number() }) });
    const reg = new EventRegistry({
      events: [Deposited],
      upcasters: new UpcasterRegistry()
        .register({ type: 'Deposited', from: 1, to: 2, up: (d) => d })
        .register({ type: 'Deposited', from: 2, to: 3, up: (d) => d }),
    });
    const message = decodeError(reg, stored('Deposited', 9, { n: 1 })).message;
    expect(message).toContain('is stored as Deposited v9');
    expect(message).toContain('this application defines Deposited only up to v3');
    expect(message).toContain('written by a newer version of the application');
    expect(message).toContain('deploy that version, or add the definition');
    expect(message, 'no "from v9 to v9" upcast wording').not.toContain('to Deposited v9');
    expect(message).not.toContain('?');

    // An import of such a version is refused on append, with the same explanation.
    expect(() =>
      reg.prepare('account-1', [{ type: 'Deposited', schemaVersion: 9, data: { n: 1 } }], { import: true }),
    ).toThrow(/defines Deposited only up to v3, so v9 was written by a newer version of the application/);
  });

  it('undefined types are read as stored, at their stored version', () => {
    const event = registry.decode(stored('Note', 7, { text: 'hi' }));
    expect(event).toMatchObject({ type: 'Note', schemaVersion: 7, data: { text: 'hi' } });
    expect(Object.isFrozen(event.data)).toBe(true);
  });

  it('resolves each (type, version) once, runs each step once per event, and does not re-validate current events', () => {
    const steps = freshUpcasters();
    const calls = { v1: 0, v2: 0 };
    const counting = new UpcasterRegistry()
      .register(steps.step('FundsAdded', 1)!)
      .register({
        ...steps.step('MoneyDeposited', 1)!,
        up: (d, m) => {
          calls.v1++;
          return steps.step('MoneyDeposited', 1)!.up(d, m);
        },
      })
      .register({
        ...steps.step('MoneyDeposited', 2)!,
        up: (d, m) => {
          calls.v2++;
          return steps.step('MoneyDeposited', 2)!.up(d, m);
        },
      });
    const plans = vi.spyOn(counting, 'resolve');
    const parse = vi.spyOn(MoneyDeposited.schema, 'safeParse');
    try {
      const reg = new EventRegistry({ events: moneyEvents, upcasters: counting });
      plans.mockClear();
      parse.mockClear();
      for (let i = 0; i < 50; i++) {
        reg.decode(stored('FundsAdded', 1, { account: 'a', cents: i }));
        reg.decode(
          stored('MoneyDeposited', 3, {
            accountId: 'a',
            amount: { value: i, currency: 'EUR' },
            channel: 'online',
          }),
        );
      }
      expect(plans.mock.calls.map(([type, version]) => `${type}@${version}`).sort()).toEqual([
        'FundsAdded@1',
        'MoneyDeposited@3',
      ]);
      expect(calls).toEqual({ v1: 50, v2: 50 });
      expect(parse).toHaveBeenCalledTimes(50); // once per upcast event, never for the current ones
    } finally {
      parse.mockRestore();
    }
  });
});

describe('EventRegistry.prepare: writes at the current version; old ones only by import', () => {
  const registry = new EventRegistry({ events: moneyEvents, upcasters });
  const v1 = (amount: unknown) => ({
    type: 'MoneyDeposited',
    schemaVersion: 1,
    data: { accountId: 'a', amount },
  });

  it('writes the current version by default and refuses an older one without import', () => {
    const [event] = registry.prepare('s', [
      MoneyDeposited.create({ accountId: 'a', amount: { value: 1, currency: 'EUR' }, channel: 'online' }),
    ]);
    expect(event!.schemaVersion).toBe(3);
    expect(() => registry.prepare('s', [v1(1)])).toThrow(
      expect.objectContaining({
        code: 'EVENT_VALIDATION_FAILED',
        message: expect.stringContaining('import'),
      }),
    );
    expect(() => registry.prepare('s', [{ type: 'FundsAdded', data: { account: 'a', cents: 1 } }])).toThrow(
      expect.objectContaining({ message: expect.stringContaining('renamed to MoneyDeposited') }),
    );
  });

  it('an import keeps the old version and data as given, and checks they upcast', () => {
    const [event] = registry.prepare('s', [v1(5)], { import: true });
    expect(event).toMatchObject({
      type: 'MoneyDeposited',
      schemaVersion: 1,
      data: { accountId: 'a', amount: 5 },
    });
    expect(JSON.parse(event!.dataJson)).toEqual({ accountId: 'a', amount: 5 });
    const error = (() => {
      try {
        registry.prepare('s', [v1('five')], { import: true });
      } catch (e) {
        return e as UpcastFailed;
      }
    })();
    expect(error).toMatchObject({ code: 'UPCAST_FAILED', streamId: 's', fromVersion: 1, toVersion: 3 });
    expect(error!.issues.map((i) => i.path)).toEqual([['amount', 'value']]);
  });

  it('an import checks what will be stored (the JSON), and does not freeze the caller\u2019s objects', () => {
    const data = { accountId: 'a', amount: 5 };
    registry.prepare('s', [{ type: 'MoneyDeposited', schemaVersion: 1, data }], { import: true });
    expect(Object.isFrozen(data)).toBe(false);
  });

  it('a strict store accepts an import of a type that was renamed away (it upcasts to a defined type)', () => {
    const strict = new EventRegistry({ events: moneyEvents, upcasters, strict: true });
    const [event] = strict.prepare(
      's',
      [{ type: 'FundsAdded', schemaVersion: 1, data: { account: 'a', cents: 1 } }],
      {
        import: true,
      },
    );
    expect(event!.type).toBe('FundsAdded');
    expect(() => strict.prepare('s', [{ type: 'Mystery', data: {} }], { import: true })).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_EVENT_TYPE' }),
    );
  });

  it('refuses a schemaVersion that is not an integer >= 1, or above the current version, even on import', () => {
    for (const schemaVersion of [0, -1, 1.5, Number.NaN, 4]) {
      expect(() =>
        registry.prepare('s', [{ type: 'MoneyDeposited', schemaVersion, data: {} }], { import: true }),
      ).toThrow(expect.objectContaining({ code: 'EVENT_VALIDATION_FAILED' }));
    }
    expect(() => registry.prepare('s', [{ type: 'Note', schemaVersion: 0, data: {} }])).toThrow(
      expect.objectContaining({ code: 'EVENT_VALIDATION_FAILED' }),
    );
  });

  it('an import of a version no chain leads from is refused, naming the gap', () => {
    const Thing = defineEvent('Thing', { version: 3, schema: z.object({ n: z.number() }) });
    const reg = new EventRegistry({
      events: [Thing],
      upcasters: new UpcasterRegistry().register({ type: 'Thing', from: 2, to: 3, up: (d) => d }),
    });
    expect(() =>
      reg.prepare('s', [{ type: 'Thing', schemaVersion: 1, data: { n: 1 } }], { import: true }),
    ).toThrow(/no upcaster leads from Thing v1 to the current v3/);
    expect(
      reg.prepare('s', [{ type: 'Thing', schemaVersion: 2, data: { n: 1 } }], { import: true }),
    ).toHaveLength(1);
  });
});
