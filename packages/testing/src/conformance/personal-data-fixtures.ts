import {
  defineEvent,
  type EventStore,
  FORGOTTEN,
  InMemoryKeyStore,
  type KeyStore,
  PERSONAL_DATA_STREAM,
  type PersonalDataStore,
  personal,
  type RecordedEvent,
  type SubjectKey,
  type SubjectKeys,
} from '@annals/core';
import { z } from 'zod';
import { collectUntil, deliveryTimeout, toArray } from './collect.js';
import type { ConformanceContext } from './conformance-types.js';

const subject = (data: { customerId: string }) => data.customerId;

/** An event with personal fields of the customer it names: a name, and emails in an array. */
export const CustomerRegistered = defineEvent('CustomerRegistered', {
  schema: z.object({
    customerId: z.string().min(1),
    name: personal(z.string().min(1), { subject }),
    contact: z.object({ emails: z.array(personal(z.string(), { subject })) }).optional(),
    tier: z.string(),
  }),
});

/** A key store whose keys can be swapped for another store's (a lost key store), or made to fail. */
export class SwitchableKeyStore implements KeyStore {
  current: KeyStore = new InMemoryKeyStore();
  failure: Error | undefined;

  currentKeys(subjects: readonly string[]): Promise<ReadonlyMap<string, SubjectKey>> {
    return this.#use().currentKeys(subjects);
  }
  keys(subjects: readonly string[]): Promise<ReadonlyMap<string, SubjectKeys>> {
    return this.#use().keys(subjects);
  }
  rotate(subject: string): Promise<SubjectKey> {
    return this.#use().rotate(subject);
  }
  forget(subject: string): Promise<void> {
    return this.#use().forget(subject);
  }
  #use(): KeyStore {
    if (this.failure !== undefined) throw this.failure;
    return this.current;
  }
}

/** A fresh store that seals {@link CustomerRegistered} with `keys`. */
export async function createPersonalStore(
  context: ConformanceContext,
  keys: KeyStore = new InMemoryKeyStore(),
): Promise<PersonalDataStore> {
  const store = await context.createStore({ events: [CustomerRegistered], personalData: { keys } });
  return store as PersonalDataStore;
}

/** A `CustomerRegistered` of `customerId` with its name and emails. */
export function registered(customerId: string, name: string, emails: string[] = []) {
  return CustomerRegistered.create({ customerId, name, contact: { emails }, tier: 'gold' });
}

/** Every read path's view of `streamId`: readStream, readAll and both subscriptions, up to the last event. */
export async function readEveryPath(
  context: ConformanceContext,
  store: EventStore,
  streamId: string,
): Promise<Record<string, RecordedEvent[]>> {
  const stream = await toArray(store.readStream(streamId));
  const lastId = stream[stream.length - 1]!.id;
  const all = (await toArray(store.readAll())).filter((e) => e.streamId === streamId);
  const timeoutMs = deliveryTimeout(context);
  const toStream = store.subscribeToStream(streamId);
  const toAll = store.subscribeToAll({ filter: { streamPrefix: streamId } });
  try {
    const fromStream = await collectUntil(toStream, (e) => e.id === lastId, { timeoutMs });
    const fromAll = await collectUntil(toAll, (e) => e.id === lastId, { timeoutMs });
    return { readStream: stream, readAll: all, subscribeToStream: fromStream, subscribeToAll: fromAll };
  } finally {
    await Promise.all([toStream.stop(), toAll.stop()]);
  }
}

/** The data of every event of the `SubjectForgotten` stream. */
export async function forgottenSubjects(store: EventStore): Promise<unknown[]> {
  return (await toArray(store.readStream(PERSONAL_DATA_STREAM))).map((e) => e.data);
}

export { FORGOTTEN };
