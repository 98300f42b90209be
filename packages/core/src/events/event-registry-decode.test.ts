import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { UpcasterRegistry } from '../upcasting/upcaster-registry.js';
import { deepFreeze } from './deep-freeze.js';
import { defineEvent } from './define-event.js';
import { EventRegistry } from './event-registry.js';
import type { StoredEvent } from './event-types.js';

const Moved = defineEvent('Moved', {
  version: 2,
  schema: z.object({
    to: z.object({ x: z.number(), y: z.number() }),
    path: z.array(z.object({ x: z.number() })),
  }),
});

function registry(): EventRegistry {
  const upcasters = new UpcasterRegistry().register({
    type: 'Moved',
    from: 1,
    to: 2,
    up: (v1) => ({ to: (v1 as { to: { x: number; y: number } }).to, path: [] }),
  });
  return new EventRegistry({ events: [Moved], upcasters });
}

function row(schemaVersion = 2): StoredEvent {
  return {
    id: '0190c0de-0000-7000-8000-000000000001',
    type: 'Moved',
    schemaVersion,
    streamId: 's',
    revision: 0n,
    position: (1n << 60n) + 1n,
    data: { to: { x: 1, y: 2 }, path: [{ x: 0 }, { x: 1 }] },
    metadata: { tags: ['a'] },
    recordedAt: new Date(1_000),
  };
}

function expectDeeplyFrozen(event: StoredEvent): void {
  const data = event.data as { to: object; path: object[] };
  for (const value of [event, event.recordedAt, data, data.to, data.path, data.path[1], event.metadata]) {
    expect(Object.isFrozen(value)).toBe(true);
  }
  expect(Object.isFrozen((event.metadata as { tags: string[] }).tags)).toBe(true);
}

describe('EventRegistry.decode', () => {
  it('copies a row it does not own: the row stays unfrozen, and recordedAt is the event’s own Date', () => {
    const stored = row();
    const event = registry().decode(stored);
    expect(event).not.toBe(stored);
    expect(event).toEqual({ ...stored, tags: [] });
    expectDeeplyFrozen(event);
    expect(Object.isFrozen(stored)).toBe(false);
    expect(event.recordedAt).not.toBe(stored.recordedAt);
    stored.recordedAt.setTime(5);
    expect(event.recordedAt.getTime()).toBe(1_000);
    // The same row read twice gives two events, each with its own Date.
    const again = registry().decode(stored);
    expect(again.recordedAt).not.toBe(event.recordedAt);
  });

  it('freezes a row it owns in place, deeply, with the same fields as a copy', () => {
    const stored = row();
    const event = registry().decode(stored, { owned: true });
    expect(event).toBe(stored);
    expect(event).toEqual(registry().decode(row()));
    expectDeeplyFrozen(event);
  });

  it('upcasts an owned row to a new frozen event that keeps the row’s recordedAt', () => {
    const stored = row(1);
    const event = registry().decode(stored, { owned: true });
    expect(event).not.toBe(stored);
    expect(event).toMatchObject({ type: 'Moved', schemaVersion: 2, data: { to: { x: 1, y: 2 }, path: [] } });
    expect(event.position).toBe((1n << 60n) + 1n);
    expect(event.recordedAt).toBe(stored.recordedAt);
    expectDeeplyFrozen(event);
  });

  it('upcasts a row it does not own to an event with its own recordedAt', () => {
    const stored = row(1);
    const event = registry().decode(stored);
    expect(event.recordedAt).not.toBe(stored.recordedAt);
    expect(event.recordedAt.getTime()).toBe(1_000);
    expectDeeplyFrozen(event);
  });
});

describe('deepFreeze', () => {
  it('freezes nested objects and arrays, including properties set on an array', () => {
    const tagged = Object.assign([{ n: 1 }], { extra: { n: 2 } });
    const value = deepFreeze({ a: { b: [{ c: 1 }] }, tagged, when: new Date(0), n: null });
    expect(Object.isFrozen(value.a.b[0])).toBe(true);
    expect(Object.isFrozen(value.tagged[0])).toBe(true);
    expect(Object.isFrozen(value.tagged.extra)).toBe(true);
    expect(Object.isFrozen(value.when)).toBe(true);
    expect(deepFreeze('text')).toBe('text');
  });
});
