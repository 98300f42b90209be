import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { hasErrorCode } from '../errors/annals-error.js';
import { EventValidationFailed } from '../errors/store-errors.js';
import { defineEvent } from '../events/define-event.js';
import type { RecordedEvent } from '../events/event-types.js';
import { Repository } from '../repository/repository.js';
import { InMemoryEventStore } from '../store/in-memory-event-store.js';
import { AggregateDefinitionInvalid, MissingApplyHandler } from './aggregate-errors.js';
import { Aggregate, Apply, aggregateDefinition } from './aggregate-metadata.js';
import { AggregateRoot } from './aggregate-root.js';

const Incremented = defineEvent('Incremented', { schema: z.object({ by: z.number().int().positive() }) });
const Reset = defineEvent('Reset', { schema: z.object({}) });
const Unhandled = defineEvent('Unhandled', { schema: z.object({}) });

@Aggregate('Counter')
class Counter extends AggregateRoot {
  value = 0;
  seen: { revision: string | undefined; type: string | undefined }[] = [];

  increment(by: number) {
    this.raise(Incremented, { by });
  }

  reset() {
    this.raise(Reset, {});
  }

  raiseUnhandled() {
    this.raise(Unhandled, {});
  }

  @Apply(Incremented)
  protected onIncremented(e: { by: number }, recorded?: RecordedEvent) {
    this.value += e.by;
    this.seen.push({ revision: recorded?.revision.toString(), type: recorded?.type });
  }

  @Apply(Reset)
  protected onReset() {
    this.value = 0;
  }
}

describe('AggregateRoot', () => {
  it('raise validates, applies and records the event as uncommitted', () => {
    const counter = new Counter('c-1');
    counter.increment(2);
    counter.increment(3);
    expect(counter.value).toBe(5);
    expect(counter.revision).toBe('no_stream');
    expect(counter.uncommittedEvents.map((e) => [e.type, e.data])).toEqual([
      ['Incremented', { by: 2 }],
      ['Incremented', { by: 3 }],
    ]);
    expect(counter.uncommittedEvents[0]!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Object.isFrozen(counter.uncommittedEvents[0]!.data)).toBe(true);
  });

  it('refuses invalid data with EventValidationFailed and changes nothing', () => {
    const counter = new Counter('c-1');
    const error = (() => {
      try {
        counter.increment(-1);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(EventValidationFailed);
    expect((error as EventValidationFailed).issues[0]!.path).toEqual(['by']);
    expect(counter.value).toBe(0);
    expect(counter.uncommittedEvents).toEqual([]);
  });

  it('raising a type without @Apply fails with MISSING_APPLY_HANDLER naming aggregate and type, recording nothing', () => {
    const counter = new Counter('c-1');
    expect(() => counter.raiseUnhandled()).toThrow(MissingApplyHandler);
    try {
      counter.raiseUnhandled();
    } catch (e) {
      expect(hasErrorCode(e, 'MISSING_APPLY_HANDLER')).toBe(true);
      expect((e as Error).message).toBe(
        'Aggregate Counter has no @Apply handler for event type Unhandled; it handles Incremented, Reset.',
      );
    }
    expect(counter.uncommittedEvents).toEqual([]);
  });

  it('loading a stored type without @Apply fails with MISSING_APPLY_HANDLER', async () => {
    const store = new InMemoryEventStore();
    await store.append('Counter-c-1', [Incremented.create({ by: 1 }), Unhandled.create({})]);
    const counters = new Repository(Counter, { store });
    await expect(counters.load('c-1')).rejects.toThrow(
      'Aggregate Counter has no @Apply handler for event type Unhandled',
    );
  });

  it('passes the RecordedEvent as second argument on load and undefined while raising', async () => {
    const store = new InMemoryEventStore({ events: [Incremented, Reset] });
    const counters = new Repository(Counter, { store });
    const counter = new Counter('c-1');
    counter.increment(1);
    expect(counter.seen).toEqual([{ revision: undefined, type: undefined }]);
    await counters.save(counter);
    const loaded = await counters.load('c-1');
    expect(loaded.seen).toEqual([{ revision: '0', type: 'Incremented' }]);
  });

  it('requires a non-empty id', () => {
    expect(() => new Counter('')).toThrow('Counter expects a non-empty string id, found "".');
  });

  it('default snapshot state is a copy of the own fields, without the base bookkeeping', () => {
    const counter = new Counter('c-1');
    counter.increment(4);
    const state = counter.toSnapshot() as Record<string, unknown>;
    expect(Object.keys(state).sort()).toEqual(['seen', 'value']);
    (state.seen as unknown[]).push('x');
    expect(counter.seen).toHaveLength(1);
    const copy = new Counter('c-1');
    copy.fromSnapshot(state);
    expect(copy.value).toBe(4);
  });
});

describe('aggregate decorators', () => {
  it('reads type, snapshot version and applied events through reflect-metadata', () => {
    @Aggregate('Versioned', { snapshotVersion: 3 })
    class Versioned extends Counter {}
    expect(aggregateDefinition(Counter)).toEqual({
      type: 'Counter',
      snapshotVersion: 1,
      events: [Incremented, Reset],
    });
    // handlers are inherited from the base class
    expect(aggregateDefinition(Versioned)).toMatchObject({ type: 'Versioned', snapshotVersion: 3 });
    const v = new Versioned('v-1');
    v.increment(2);
    expect(v.value).toBe(2);
  });

  it('a subclass may replace a handler of its base class', () => {
    @Aggregate('Doubling')
    class Doubling extends Counter {
      @Apply(Incremented)
      protected onDoubled(e: { by: number }) {
        this.value += 2 * e.by;
      }
    }
    const d = new Doubling('d-1');
    d.increment(3);
    expect(d.value).toBe(6);
  });

  it('refuses a class without @Aggregate when used', () => {
    class Plain extends AggregateRoot {}
    expect(() => aggregateDefinition(Plain)).toThrow(AggregateDefinitionInvalid);
    expect(() => new Repository(Plain, { store: new InMemoryEventStore() })).toThrow(
      "Plain has no @Aggregate('<type>') decorator",
    );
    // an undecorated subclass does not silently inherit its parent's type (and streams)
    class Sub extends Counter {}
    expect(() => aggregateDefinition(Sub)).toThrow('Sub has no @Aggregate');
  });

  it('refuses two @Apply handlers for one type in a class, at definition time', () => {
    expect(() => {
      @Aggregate('Twice')
      class Twice extends AggregateRoot {
        @Apply(Reset) protected a() {}
        @Apply(Reset) protected b() {}
      }
      return Twice;
    }).toThrow('Twice has two @Apply handlers for Reset: a and b.');
  });

  it('refuses an invalid snapshot version', () => {
    expect(() => Aggregate('Bad', { snapshotVersion: 0 })).toThrow(
      "@Aggregate('Bad') expects snapshotVersion to be an integer >= 1, found 0.",
    );
  });
});
