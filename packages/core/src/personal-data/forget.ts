import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineEvent } from '../events/define-event.js';
import type { EventRegistry } from '../events/event-registry.js';
import type { EventStore } from '../store/event-store.js';
import { assertSubject } from './in-memory-key-store.js';
import type { KeyStore, SubjectKey } from './key-store.js';
import { PersonalDataKeysMissing } from './personal-data-errors.js';

/** The stream `forget` appends {@link SubjectForgottenEvent} to. */
export const PERSONAL_DATA_STREAM = '$personal-data';

/**
 * Appended by `forget(store, subject)` after the subject's keys are destroyed, to
 * {@link PERSONAL_DATA_STREAM}: projections handle the type `SubjectForgotten` to erase the copies
 * their read models keep. Every registry with a key store knows it.
 */
export const SubjectForgottenEvent = defineEvent('SubjectForgotten', {
  schema: z.object({ subject: z.string().min(1) }),
});

/** A store that seals personal data: the shipped stores, whose `registry` holds the key store. */
export type PersonalDataStore = EventStore & { readonly registry: EventRegistry };

/**
 * Forgets a data subject (the right to erasure): destroys every version of its key in the store's
 * key store, so every read path from then on returns `FORGOTTEN` for its personal fields, then
 * appends `SubjectForgotten { subject }` to {@link PERSONAL_DATA_STREAM} so projections erase their
 * copies. Safe to run again after a failure: the event id is derived from the subject, so a repeat
 * appends nothing new. Nothing else about any event changes.
 *
 * @example
 * ```ts
 * await forget(store, 'customer-42');
 * ```
 */
export async function forget(store: PersonalDataStore, subject: string): Promise<void> {
  assertSubject(subject);
  await keysOf(store, 'forget').forget(subject);
  await store.append(PERSONAL_DATA_STREAM, [
    SubjectForgottenEvent.create({ subject }, { id: forgottenEventId(subject) }),
  ]);
}

/**
 * Rotates a subject's key: later appends seal its personal fields under a new key version, while
 * events sealed under older versions stay readable. Returns the new version.
 */
export async function rotateKey(store: PersonalDataStore, subject: string): Promise<number> {
  assertSubject(subject);
  const key: SubjectKey = await keysOf(store, 'rotateKey').rotate(subject);
  return key.version;
}

function keysOf(store: PersonalDataStore, operation: string): KeyStore {
  const keys = store.registry?.personalData.keys;
  if (keys === undefined) throw new PersonalDataKeysMissing(`${operation} was called`);
  return keys;
}

/** A UUID (version 8 layout) derived from the subject: one `SubjectForgotten` event per subject. */
function forgottenEventId(subject: string): string {
  const hex = createHash('sha256').update(`annals:subject-forgotten:${subject}`).digest('hex');
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
