import {
  type AppendOptions,
  type AppendResult,
  type AppendToStreamsOptions,
  type AppendToStreamsResult,
  InMemoryEventStore,
  type NewEvent,
  type ReadAllOptions,
  type RecordedEvent,
  type StreamWrite,
} from '@annals/core';
import {
  type ConformanceCase,
  eventStoreConformanceCases,
  runConformanceCase,
  type StoreFactory,
} from '@annals/testing';
import { describe, expect, it } from 'vitest';

/**
 * The DCB cases prove their guarantees only if they fail a store that breaks them: each store below
 * is the real InMemoryEventStore with one rule of tags, queries or append conditions broken.
 */

const cases = eventStoreConformanceCases();
const conditions = { appendConditions: true };

function caseNamed(fragment: string): ConformanceCase {
  const found = cases.filter((c) => c.name.includes(fragment));
  if (found.length !== 1)
    throw new Error(`Expected one case named like "${fragment}", found ${found.length}.`);
  return found[0]!;
}

const failureOf = (c: ConformanceCase, createStore: StoreFactory) =>
  runConformanceCase(c, { createStore, capabilities: conditions }).then(
    () => undefined,
    (error: unknown) => error,
  );

/** Ignores every append condition. */
class IgnoresConditions extends InMemoryEventStore {
  override append(
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    const { condition: _dropped, ...rest } = options;
    return super.append(streamId, events, rest);
  }
  override appendToStreams(
    writes: readonly StreamWrite[],
    _options?: AppendToStreamsOptions,
  ): Promise<AppendToStreamsResult> {
    return super.appendToStreams(writes);
  }
}

/** Checks the condition, then lets other work run before it writes: a check-then-act race. */
class ChecksThenWrites extends InMemoryEventStore {
  override async append(
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    const { condition, ...rest } = options;
    if (condition !== undefined) {
      // A condition checked by a probe that writes nothing: an append of no matching event.
      await super.append('__probe', [{ type: 'Probe', data: {} }], { condition });
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return super.append(streamId, events, rest);
  }
}

/** Forgets tags on read. */
class DropsTags extends InMemoryEventStore {
  override async *readStream(streamId: string): AsyncGenerator<RecordedEvent> {
    for await (const event of super.readStream(streamId)) yield { ...event, tags: [] };
  }
  override async *readAll(options?: ReadAllOptions): AsyncGenerator<RecordedEvent> {
    for await (const event of super.readAll(options)) yield { ...event, tags: [] };
  }
}

/** Matches query tags as SQL LIKE patterns (`_` any character, `%` any text). */
class MatchesLikePatterns extends InMemoryEventStore {
  override async *readAll(options: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    const query = options.filter?.query;
    if (query === undefined) {
      yield* super.readAll(options);
      return;
    }
    const like = (pattern: string) =>
      new RegExp(
        `^${pattern
          .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
          .replace(/%/g, '.*')
          .replace(/_/g, '.')}$`,
      );
    const { query: _q, ...filter } = options.filter!;
    for await (const event of super.readAll({ ...options, filter })) {
      const hit = query.items.some(
        (item) =>
          (item.types === undefined || item.types.includes(event.type)) &&
          (item.tags ?? []).every((tag) => event.tags.some((t) => like(tag).test(t))),
      );
      if (hit) yield event;
    }
  }
}

/** Treats `after` as absent: any matching event fails the condition. */
class IgnoresAfter extends InMemoryEventStore {
  override append(
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    const { condition } = options;
    if (condition === undefined) return super.append(streamId, events, options);
    return super.append(streamId, events, {
      ...options,
      condition: { failIfEventsMatch: condition.failIfEventsMatch },
    });
  }
}

const breakages: { store: string; create: StoreFactory; guards: string[] }[] = [
  {
    store: 'a store that ignores append conditions',
    create: (o) => new IgnoresConditions(o),
    guards: [
      'a condition whose query matches an event after',
      'appendToStreams writes to several streams',
      'unique username',
      'invoice numbers without gaps',
      'opt-in token',
      'course subscriptions',
      'racers with partly overlapping conditions',
    ],
  },
  {
    store: 'a store that checks a condition and writes later (a race)',
    create: (o) => new ChecksThenWrites(o),
    guards: ['invoice numbers without gaps', 'racers with partly overlapping conditions'],
  },
  {
    store: 'a store that drops tags on read',
    create: (o) => new DropsTags(o),
    guards: ['tags derived by the definition', 'tags holding quotes'],
  },
  {
    store: 'a store that matches tags as LIKE patterns',
    create: (o) => new MatchesLikePatterns(o),
    guards: ['tags holding quotes'],
  },
  {
    store: 'a store that ignores `after`',
    create: (o) => new IgnoresAfter(o),
    guards: ['a condition whose query matches an event after'],
  },
];

describe('the DCB conformance cases', () => {
  for (const breakage of breakages) {
    describe(breakage.store, () => {
      for (const guard of breakage.guards) {
        it(`fails: ${guard}`, async () => {
          const error = await failureOf(caseNamed(guard), breakage.create);
          expect(error, 'the case should have failed').toBeInstanceOf(Error);
          expect(error).not.toBeInstanceOf(TypeError);
          expect(error).not.toBeInstanceOf(ReferenceError);
        });
      }
    });
  }
  describe('the real InMemoryEventStore', () => {
    for (const guard of new Set(breakages.flatMap((b) => b.guards))) {
      it(`passes: ${guard}`, async () => {
        expect(await failureOf(caseNamed(guard), (o) => new InMemoryEventStore(o))).toBe(undefined);
      });
    }
  });
});
