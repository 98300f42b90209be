import {
  type AppendOptions,
  type EventRegistry,
  type EventStore,
  InMemoryEventStore,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
} from '@annals/core';
import { eventStoreConformanceCases, runConformanceCase, type StoreFactory } from '@annals/testing';
import { describe, expect, it } from 'vitest';

/**
 * The personal-data cases prove crypto-shredding only if they fail a store that keeps personal data
 * in clear text. The broken store below seals like the real one but keeps a clear copy of each event
 * it appended (a cache beside the sealed log) and serves reads from it.
 */

const cases = eventStoreConformanceCases().filter((c) => c.group === 'personal data');

function caseNamed(fragment: string) {
  const found = cases.filter((c) => c.name.includes(fragment));
  if (found.length !== 1) throw new Error(`Expected one personal data case named like "${fragment}".`);
  return found[0]!;
}

/** Reads return the clear data each event was appended with, whatever its key store says now. */
class KeepsClearCopies implements EventStore {
  readonly #clear = new Map<string, unknown>();
  constructor(readonly inner: InMemoryEventStore) {}
  get capabilities() {
    return this.inner.capabilities;
  }
  get registry(): EventRegistry {
    return this.inner.registry;
  }
  async append(streamId: string, events: readonly NewEvent[], options?: AppendOptions) {
    const result = await this.inner.append(streamId, events, options);
    const first = result.nextExpectedRevision - BigInt(events.length - 1);
    for (const [i, event] of events.entries())
      this.#clear.set(`${streamId}@${first + BigInt(i)}`, event.data);
    return result;
  }
  async *readStream(streamId: string, options?: ReadStreamOptions) {
    for await (const event of this.inner.readStream(streamId, options)) yield this.#fromCache(event);
  }
  async *readAll(options?: ReadAllOptions) {
    for await (const event of this.inner.readAll(options)) yield this.#fromCache(event);
  }
  subscribeToStream(...args: Parameters<EventStore['subscribeToStream']>) {
    return this.inner.subscribeToStream(...args);
  }
  subscribeToAll(...args: Parameters<EventStore['subscribeToAll']>) {
    return this.inner.subscribeToAll(...args);
  }
  close() {
    return this.inner.close();
  }
  #fromCache(event: RecordedEvent): RecordedEvent {
    const clear = this.#clear.get(`${event.streamId}@${event.revision}`);
    return clear === undefined ? event : { ...event, data: clear };
  }
}

const real: StoreFactory = (options) => new InMemoryEventStore(options);
const clearCopies: StoreFactory = (options) => new KeepsClearCopies(new InMemoryEventStore(options));

const failureOf = (fragment: string, createStore: StoreFactory) =>
  runConformanceCase(caseNamed(fragment), { createStore, deliveryTimeoutMs: 1_000 }).then(
    () => undefined,
    (error: unknown) => error,
  );

describe('a store that keeps personal data in clear text beside the sealed log', () => {
  for (const guard of [
    'after forget, every read path returns FORGOTTEN',
    'a rotated key seals later appends',
  ]) {
    it(`fails: ${guard}`, async () => {
      const error = await failureOf(guard, clearCopies);
      expect(error, 'the case should have failed').toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(TypeError);
      expect(await failureOf(guard, real)).toBe(undefined);
    });
  }
  it('still passes an unrelated case: personal fields read back as appended', async () => {
    expect(await failureOf('personal fields read back as appended', clearCopies)).toBe(undefined);
  });
});
