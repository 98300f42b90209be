import {
  defineEvent,
  EventRegistry,
  InMemoryEventStore,
  type UpcasterChainInvalid,
  type UpcasterChainProblem,
  UpcasterRegistry,
} from '@annals/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { moneyEvents, upcasters } from './fixtures/money-events.js';

const V1 = defineEvent('Thing', { version: 1, schema: z.object({ n: z.number() }) });
const V3 = defineEvent('Thing', { version: 3, schema: z.object({ n: z.number() }) });
const Other = defineEvent('Other', { version: 2, schema: z.object({ n: z.number() }) });
const same = (d: unknown) => d;

/** Runs `build` and returns the UpcasterChainInvalid it throws, failing on anything else. */
function chainError(build: () => unknown): UpcasterChainInvalid {
  try {
    build();
  } catch (error) {
    expect(error).toMatchObject({ name: 'UpcasterChainInvalid', code: 'UPCASTER_CHAIN_INVALID' });
    return error as UpcasterChainInvalid;
  }
  throw new Error('Expected an UpcasterChainInvalid, but nothing was thrown.');
}

function expectChainError(
  build: () => unknown,
  expected: { problem: UpcasterChainProblem; eventType: string; fromVersion?: number; mentions: string[] },
): void {
  const error = chainError(build);
  expect({ problem: error.problem, eventType: error.eventType, fromVersion: error.fromVersion }).toEqual({
    problem: expected.problem,
    eventType: expected.eventType,
    fromVersion: expected.fromVersion,
  });
  for (const text of expected.mentions) expect(error.message).toContain(text);
}

describe('UpcasterRegistry: start-up check, when a store is created', () => {
  it('accepts a complete chain with a rename (the docs example)', () => {
    const store = new InMemoryEventStore({ events: moneyEvents, upcasters });
    expect(store.registry.upcastTarget('FundsAdded', 1)).toEqual({ type: 'MoneyDeposited', version: 3 });
    expect(store.registry.upcastTarget('MoneyDeposited', 2)).toEqual({ type: 'MoneyDeposited', version: 3 });
    expect(store.registry.upcastTarget('MoneyDeposited', 3)).toEqual({ type: 'MoneyDeposited', version: 3 });
  });

  it('missing step: the chain stops below the current version', () => {
    const registry = new UpcasterRegistry().register({ type: 'Thing', from: 1, to: 2, up: same });
    expectChainError(() => new InMemoryEventStore({ events: [V3], upcasters: registry }), {
      problem: 'missing_step',
      eventType: 'Thing',
      fromVersion: 1,
      mentions: ['Thing v1', 'stops at Thing v2', 'v3'],
    });
  });

  it('missing step: a type past v1 that no upcaster leads to, when the store is given upcasters', () => {
    expectChainError(
      () => new InMemoryEventStore({ events: [V1, Other], upcasters: new UpcasterRegistry() }),
      {
        problem: 'missing_step',
        eventType: 'Other',
        fromVersion: 1,
        mentions: ['Other is defined at v2', 'from v1 to v2'],
      },
    );
  });

  it('a store given no upcasters accepts a type defined past v1; an older stored version fails on read', async () => {
    const store = new InMemoryEventStore({ events: [V1, Other] });
    await store.append('o-1', [{ type: 'Other', data: { n: 1 } }]);
    const read = [];
    for await (const e of store.readStream('o-1')) read.push(e);
    expect(read.map((e) => e.schemaVersion)).toEqual([2]);
    // No upcaster can read Other v1, so importing one is refused and nothing is written.
    await expect(
      store.append('o-2', [{ type: 'Other', schemaVersion: 1, data: { n: 1 } }], { import: true }),
    ).rejects.toMatchObject({ code: 'EVENT_VALIDATION_FAILED' });
    await expect(store.readStream('o-2')[Symbol.asyncIterator]().next()).rejects.toMatchObject({
      code: 'STREAM_NOT_FOUND',
    });
  });

  it('missing step: a chain that is complete for one version but not for an older one reached by a rename', () => {
    const registry = new UpcasterRegistry()
      .register({ type: 'Thing', from: 2, to: 3, up: same })
      .register({ type: 'Old', from: 1, toType: 'Thing', to: 1, up: same });
    expectChainError(() => new EventRegistry({ events: [V3], upcasters: registry }), {
      problem: 'missing_step',
      eventType: 'Old',
      fromVersion: 1,
      mentions: ['Old v1', 'stops at Thing v1', 'v3'],
    });
  });

  it('duplicate step: two upcasters from the same (type, version) are refused on register', () => {
    const registry = new UpcasterRegistry().register({ type: 'Thing', from: 1, to: 2, up: same });
    expectChainError(() => registry.register({ type: 'Thing', from: 1, to: 3, up: same }), {
      problem: 'duplicate_step',
      eventType: 'Thing',
      fromVersion: 1,
      mentions: ['Thing v1', 'Thing v2', 'Thing v3'],
    });
    // A rename from the same (type, version) is the same step too.
    expectChainError(() => registry.register({ type: 'Thing', from: 1, toType: 'Other', to: 1, up: same }), {
      problem: 'duplicate_step',
      eventType: 'Thing',
      fromVersion: 1,
      mentions: ['Other v1'],
    });
    expect(registry.list()).toHaveLength(1);
  });

  it('cycle: renames that come back to where they started', () => {
    const registry = new UpcasterRegistry()
      .register({ type: 'A', from: 1, toType: 'B', to: 1, up: same })
      .register({ type: 'B', from: 1, toType: 'A', to: 1, up: same });
    const A = defineEvent('A', { version: 2, schema: z.object({}) });
    expectChainError(() => new InMemoryEventStore({ events: [A], upcasters: registry }), {
      problem: 'cycle',
      eventType: 'A',
      fromVersion: 1,
      mentions: ['A v1 -> B v1 -> A v1'],
    });
  });

  it('a chain that ends at a version no definition knows', () => {
    const registry = new UpcasterRegistry()
      .register({ type: 'Thing', from: 1, to: 2, up: same })
      .register({ type: 'Thing', from: 2, to: 4, up: same });
    expectChainError(() => new InMemoryEventStore({ events: [V3], upcasters: registry }), {
      problem: 'unknown_version',
      eventType: 'Thing',
      fromVersion: 1,
      mentions: ['ends at Thing v4', 'current version of Thing is v3'],
    });
  });

  it('an upcaster for a type nobody defines (a typo in the type, or a rename into nothing)', () => {
    const typo = new UpcasterRegistry().register({ type: 'Thnig', from: 1, to: 2, up: same });
    expectChainError(() => new InMemoryEventStore({ events: [V1], upcasters: typo }), {
      problem: 'unknown_type',
      eventType: 'Thnig',
      fromVersion: 1,
      mentions: ['Thnig v2', 'no event definition has type Thnig', 'defined: Thing'],
    });
    const renameIntoNothing = new UpcasterRegistry().register({
      type: 'Thing',
      from: 1,
      toType: 'Gone',
      to: 1,
      up: same,
    });
    expectChainError(() => new InMemoryEventStore({ events: [V3], upcasters: renameIntoNothing }), {
      problem: 'unknown_type',
      eventType: 'Thing',
      fromVersion: 1,
      mentions: ['Gone v1', 'no event definition has type Gone'],
    });
  });

  it('a step from the current version of a defined type (events written today would be upcast away)', () => {
    const registry = new UpcasterRegistry().register({
      type: 'Thing',
      from: 1,
      toType: 'Other',
      to: 2,
      up: same,
    });
    expectChainError(() => new InMemoryEventStore({ events: [V1, Other], upcasters: registry }), {
      problem: 'upcasts_current_version',
      eventType: 'Thing',
      fromVersion: 1,
      mentions: ['Thing v1', 'current version of Thing is v1'],
    });
  });

  it('a step that keeps its type and does not go up is refused on register', () => {
    expectChainError(() => new UpcasterRegistry().register({ type: 'Thing', from: 2, to: 2, up: same }), {
      problem: 'backwards_step',
      eventType: 'Thing',
      fromVersion: 2,
      mentions: ['v2 -> v2'],
    });
  });

  it('refuses malformed steps with InvalidArgument naming the field', () => {
    const registry = new UpcasterRegistry();
    const bad: [object, string][] = [
      [{ type: '', from: 1, to: 2, up: same }, 'type'],
      [{ type: 'Thing', from: 0, to: 2, up: same }, "'from'"],
      [{ type: 'Thing', from: 1, to: 2.5, up: same }, "'to'"],
      [{ type: 'Thing', from: 1, to: 2, up: 'nope' }, "'up'"],
      [{ type: 'Thing', from: 1, toType: '', to: 2, up: same }, "'toType'"],
    ];
    for (const [step, field] of bad) {
      expect(() => registry.register(step as never)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
      expect(() => registry.register(step as never)).toThrow(field);
    }
    expect(registry.list()).toEqual([]);
  });

  it('is sealed once a store has checked it: a later register is refused, so no step runs unchecked', () => {
    const registry = new UpcasterRegistry().register({ type: 'Thing', from: 1, to: 2, up: same });
    const V2 = defineEvent('Thing', { version: 2, schema: z.object({ n: z.number() }) });
    expect(registry.sealed).toBe(false);
    new InMemoryEventStore({ events: [V2], upcasters: registry });
    expect(registry.sealed).toBe(true);
    expect(() => registry.register({ type: 'Thing', from: 2, to: 3, up: same })).toThrow(
      /registered after a store was created/,
    );
    // It can still be shared by more stores.
    expect(() => new InMemoryEventStore({ events: [V2], upcasters: registry })).not.toThrow();
  });

  it('a failed check does not seal the registry', () => {
    const registry = new UpcasterRegistry().register({ type: 'Thing', from: 1, to: 2, up: same });
    expect(() => new EventRegistry({ events: [V3], upcasters: registry })).toThrow();
    expect(registry.sealed).toBe(false);
    registry.register({ type: 'Thing', from: 2, to: 3, up: same });
    expect(new EventRegistry({ events: [V3], upcasters: registry }).upcastTarget('Thing', 1)).toEqual({
      type: 'Thing',
      version: 3,
    });
  });

  it('resolve follows renames and skips; a version without a step resolves to itself', () => {
    const registry = new UpcasterRegistry()
      .register({ type: 'Old', from: 1, toType: 'Thing', to: 1, up: same })
      .register({ type: 'Thing', from: 1, to: 3, up: same });
    const plan = registry.resolve('Old', 1);
    expect(plan.steps.map((s) => `${s.type}@${s.from}`)).toEqual(['Old@1', 'Thing@1']);
    expect(plan).toMatchObject({ toType: 'Thing', toVersion: 3 });
    expect(registry.resolve('Thing', 2)).toEqual({ steps: [], toType: 'Thing', toVersion: 2 });
    expect(registry.step('Thing', 1)?.to).toBe(3);
    expect(registry.step('Thing', 2)).toBeUndefined();
  });

  it('storedTypesFor lists the types renamed into the requested ones, for adapters that filter in storage', () => {
    const registry = new EventRegistry({ events: moneyEvents, upcasters });
    expect(registry.storedTypesFor(['MoneyDeposited']).sort()).toEqual(['FundsAdded', 'MoneyDeposited']);
    expect(registry.storedTypesFor(['AccountOpened'])).toEqual(['AccountOpened']);
    expect(registry.storedTypesFor([])).toEqual([]);
  });

  it('a store given a shared EventRegistry refuses other upcasters next to it instead of ignoring them', () => {
    const registry = new EventRegistry({ events: moneyEvents, upcasters });
    expect(() => new InMemoryEventStore({ events: registry, upcasters: new UpcasterRegistry() })).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('brings its own upcasters'),
      }),
    );
    expect(new InMemoryEventStore({ events: registry, upcasters }).registry).toBe(registry);
    expect(new InMemoryEventStore({ events: registry }).registry).toBe(registry);
  });
});
