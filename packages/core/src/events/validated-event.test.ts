import { toArray } from '@annals/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EventValidationFailed } from '../errors/store-errors.js';
import { InMemoryEventStore } from '../store/in-memory-event-store.js';
import { deepFreeze } from './deep-freeze.js';
import { defineEvent } from './define-event.js';
import { EventRegistry } from './event-registry.js';
import { isFrozenJson, validatedBy, validatedEvent, withMetadata } from './validated-event.js';

/** A definition whose schema counts how often it parses. */
function countingDefinition(type = 'Counted') {
  const calls = { count: 0 };
  const definition = defineEvent(type, {
    schema: z
      .object({ amount: z.number().int().positive(), tags: z.array(z.string()) })
      .refine(() => ++calls.count > 0),
  });
  return { definition, calls };
}

/** What an aggregate's raise() does: parse, freeze, build the event. */
function raise(definition: ReturnType<typeof countingDefinition>['definition'], data: unknown) {
  return validatedEvent(definition, deepFreeze(definition.schema.parse(data)));
}

describe('isFrozenJson', () => {
  it('accepts frozen plain JSON all the way down', () => {
    expect(isFrozenJson(deepFreeze({ a: 'x', b: [1, 2.5, true, null], c: { d: {} } }))).toBe(true);
    expect(isFrozenJson('text')).toBe(true);
    expect(isFrozenJson(null)).toBe(true);
  });

  it.each([
    ['an unfrozen object', { a: 1 }],
    ['a mutable object inside a frozen one', Object.freeze({ inner: { a: 1 } })],
    ['a Date', Object.freeze({ at: Object.freeze(new Date(0)) })],
    ['undefined', Object.freeze({ a: undefined })],
    ['NaN', Object.freeze({ a: Number.NaN })],
    ['-0', Object.freeze({ a: -0 })],
    ['a bigint', Object.freeze({ a: 1n })],
    ['a NUL in a string', Object.freeze({ a: 'x\u0000y' })],
    ['a NUL in a key', Object.freeze({ 'x\u0000': 1 })],
    ['a null prototype', Object.freeze(Object.assign(Object.create(null), { a: 1 }))],
    ['a getter', Object.freeze(Object.defineProperty({}, 'a', { get: () => 1, enumerable: true }))],
    ['a hidden property', Object.freeze(Object.defineProperty({}, 'a', { value: 1, enumerable: false }))],
    ['a symbol key', Object.freeze({ [Symbol('s')]: 1 })],
    ['a sparse array', Object.freeze(Object.assign(new Array(3), { 0: 1, 2: 3 }))],
    ['an array with a named property', Object.freeze(Object.assign([1], { extra: 2 }))],
    ['a function', Object.freeze({ f: () => 1 })],
  ])('refuses %s', (_what, value) => {
    expect(isFrozenJson(value)).toBe(false);
  });
});

describe('events raised by an aggregate are validated once', () => {
  it('the store does not parse a validated event again, and stores exactly that data', async () => {
    const { definition, calls } = countingDefinition();
    const store = new InMemoryEventStore({ events: [definition] });
    const event = raise(definition, { amount: 5, tags: ['a'] });
    expect(calls.count).toBe(1);
    await store.append('s-1', [withMetadata(event, { correlationId: 'c-1' })]);
    expect(calls.count).toBe(1);
    const [read] = await toArray(store.readStream('s-1'));
    expect(read!.data).toEqual({ amount: 5, tags: ['a'] });
    expect(read!.metadata).toEqual({ correlationId: 'c-1' });
    expect(read!.id).toBe(event.id);
    expect(Object.isFrozen(read!.data)).toBe(true);
    expect(Object.isFrozen((read!.data as { tags: string[] }).tags)).toBe(true);
  });

  it('a copy of a validated event with other data is validated like any user object, and refused', async () => {
    const { definition } = countingDefinition();
    const store = new InMemoryEventStore({ events: [definition] });
    const event = raise(definition, { amount: 5, tags: [] });
    const tampered = { ...event, data: { amount: -1, tags: [] } };
    expect(validatedBy(tampered)).toBeUndefined();
    await expect(store.append('s-1', [tampered])).rejects.toBeInstanceOf(EventValidationFailed);
    const forged = Object.create(Object.getPrototypeOf(event), {
      id: { value: event.id, enumerable: true },
      type: { value: event.type, enumerable: true },
      data: { value: { amount: -1, tags: [] }, enumerable: true },
    });
    expect(validatedBy(forged)).toBeUndefined();
    await expect(store.append('s-2', [forged])).rejects.toBeInstanceOf(EventValidationFailed);
  });

  it('a store with another definition of the type validates the event with its own schema', async () => {
    const { definition } = countingDefinition('Shared');
    const strict = defineEvent('Shared', {
      schema: z.object({ amount: z.number().max(1), tags: z.array(z.string()) }),
    });
    const store = new InMemoryEventStore({ events: [strict] });
    const event = raise(definition, { amount: 5, tags: [] });
    await expect(store.append('s-1', [event])).rejects.toBeInstanceOf(EventValidationFailed);
  });

  it('data that is not frozen JSON (a Date through a codec) is validated again on append and stored encoded', async () => {
    const calls = { count: 0 };
    const isoDate = z.codec(z.iso.datetime(), z.date(), {
      decode: (text) => new Date(text),
      encode: (date) => date.toISOString(),
    });
    const Dated = defineEvent('Dated', {
      schema: z.object({ at: isoDate }).refine(() => ++calls.count > 0),
    });
    const event = validatedEvent(Dated, deepFreeze(Dated.schema.parse({ at: new Date(0).toISOString() })));
    expect(validatedBy(event)).toBeUndefined();
    const registry = new EventRegistry({ events: [Dated] });
    const [prepared] = registry.prepare('s-1', [event]);
    expect(calls.count).toBe(2);
    expect(prepared!.dataJson).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
  });

  it('a Date without a codec (z.date()) is refused on append: it would read back as a string', async () => {
    const Dated = defineEvent('Dated', { schema: z.object({ at: z.date() }) });
    const event = validatedEvent(Dated, deepFreeze(Dated.schema.parse({ at: new Date(0) })));
    const registry = new EventRegistry({ events: [Dated] });
    expect(() => registry.prepare('s-1', [event])).toThrow(/at: Expected a JSON value .*found a Date/);
  });

  it('the metadata of a validated event is still checked: a NUL is refused', async () => {
    const { definition } = countingDefinition();
    const store = new InMemoryEventStore({ events: [definition] });
    const event = withMetadata(raise(definition, { amount: 1, tags: [] }), { note: 'a\u0000b' });
    await expect(store.append('s-1', [event])).rejects.toBeInstanceOf(EventValidationFailed);
    const mutable = withMetadata(raise(definition, { amount: 1, tags: [] }), { nested: { list: [1] } });
    const [prepared] = new EventRegistry({ events: [definition] }).prepare('s-2', [mutable]);
    expect(prepared!.metadataJson).toBe('{"nested":{"list":[1]}}');
  });

  it('prepare gives validated events the same JSON an adapter writes for any event', () => {
    const { definition } = countingDefinition();
    const registry = new EventRegistry({ events: [definition] });
    const event = withMetadata(raise(definition, { amount: 2, tags: ['x'] }), { correlationId: 'c' });
    const [fast] = registry.prepare('s', [event]);
    const [plain] = registry.prepare('s', [{ ...event }]);
    expect(fast!.dataJson).toBe(plain!.dataJson);
    expect(fast!.metadataJson).toBe(plain!.metadataJson);
    expect({ ...fast, dataJson: fast!.dataJson, metadataJson: fast!.metadataJson }).toEqual({ ...plain });
  });
});
