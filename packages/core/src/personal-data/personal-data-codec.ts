import { isAnnalsError } from '../errors/annals-error.js';
import { EventValidationFailed, type ValidationIssue } from '../errors/store-errors.js';
import type { AnyEventDefinition } from '../events/define-event.js';
import type { PreparedEvent } from '../events/event-preparation.js';
import { type Envelope, envelopeFields, isEnvelope, open, seal } from './envelope.js';
import { FORGOTTEN, isForgotten } from './forgotten.js';
import type { KeyStore, KeyStoreCallOptions, PersonalDataOptions, SubjectKeys } from './key-store.js';
import { type PersonalField, personalFieldsOf } from './personal.js';
import {
  KeyStoreUnavailable,
  PersonalDataKeysMissing,
  PersonalDataUnreadable,
} from './personal-data-errors.js';

/**
 * Seals the personal fields of events on append and opens them on read, for one registry. Stores
 * call {@link seal} after `EventRegistry.prepare` and {@link open} on each page of stored rows before
 * `EventRegistry.decode`; both are no-ops without personal fields or a key store.
 */
export class PersonalDataCodec {
  /** The key store, when the store option `personalData` gave one. */
  readonly keys: KeyStore | undefined;
  readonly #fields = new Map<string, { version: number; fields: PersonalField[] }>();

  constructor(definitions: Iterable<AnyEventDefinition>, options: PersonalDataOptions | undefined) {
    this.keys = options?.keys;
    for (const definition of definitions) {
      const fields = personalFieldsOf(definition.schema);
      if (fields.length === 0) continue;
      this.#fields.set(definition.type, { version: definition.version, fields });
    }
  }

  /** Whether any definition declares personal fields. */
  get declaresAny(): boolean {
    return this.#fields.size > 0;
  }

  /** Whether reads open sealed fields (a key store was given). */
  get enabled(): boolean {
    return this.keys !== undefined;
  }

  /** Whether events of `type` have personal fields. */
  declares(type: string): boolean {
    return this.#fields.has(type);
  }

  /** The subjects whose personal data `data`, an event of `type`, holds (none for other types). */
  subjectsOf(type: string, data: unknown): string[] {
    const declared = this.#fields.get(type);
    if (declared === undefined) return [];
    return [...new Set(declared.fields.map((field) => field.subject(data)))];
  }

  /**
   * The batch with each personal field replaced by its envelope, sealed under the subject's current
   * key. Throws `EventValidationFailed` for a bad subject or a `FORGOTTEN` value,
   * `ForgottenSubjectRefused` for a forgotten subject, `KeyStoreUnavailable` when the key store fails.
   */
  async seal(
    streamId: string,
    batch: readonly PreparedEvent[],
    options?: KeyStoreCallOptions,
  ): Promise<readonly PreparedEvent[]> {
    const personal = batch.find((event) => this.#fields.has(event.type));
    if (personal === undefined) return batch;
    if (this.keys === undefined) {
      throw new PersonalDataKeysMissing(
        `an append to ${streamId} holds ${personal.type}, which declares personal fields`,
      );
    }
    const plans = batch.map((event) => this.#sealPlan(streamId, event));
    const subjects = new Set(plans.flatMap((plan) => plan?.map((field) => field.subject) ?? []));
    const keys = await this.#call('sealing an append', () => this.keys!.currentKeys([...subjects], options));
    return batch.map((event, index) => {
      const plan = plans[index];
      if (plan === undefined || plan.length === 0) return event;
      let data = event.data;
      for (const { path, subject } of plan) {
        const key = keys.get(subject)!;
        data = replaceAt(data, path, 0, (value, at) => seal(value, key, `${event.id}\u0000${at}`));
      }
      // A plain object, not the prepared event's class: the sealed data is new, not the frozen original.
      const { id, type, schemaVersion, metadata, metadataJson, tags } = event;
      return { id, type, schemaVersion, data, metadata, dataJson: JSON.stringify(data), metadataJson, tags };
    });
  }

  /** `value` sealed whole under `subject`'s current key (snapshots); `context` tells the nonce apart. */
  async sealValue(subject: string, value: unknown, context: string): Promise<unknown> {
    const keys = await this.#call('sealing a value', () => this.keys!.currentKeys([subject]));
    return seal(value, keys.get(subject)!, context);
  }

  /**
   * The rows with every envelope in their data opened, or replaced by `FORGOTTEN` when its subject
   * was forgotten. Rows without envelopes are returned as they are. Throws `PersonalDataUnreadable`
   * for an envelope that cannot be opened, `KeyStoreUnavailable` when the key store fails.
   */
  async open<T extends { readonly data: unknown }>(
    rows: readonly T[],
    options?: KeyStoreCallOptions,
  ): Promise<readonly T[]> {
    if (this.keys === undefined) {
      // Without keys only types declared personal are looked at: a sealed field is an error, not data.
      for (const row of rows) {
        const type = (row as { readonly type?: unknown }).type;
        if (typeof type === 'string' && this.#fields.has(type) && collectSubjects(row.data, new Set(), 0)) {
          throw new PersonalDataKeysMissing(`a read met a sealed field of ${type}`);
        }
      }
      return rows;
    }
    const subjects = new Set<string>();
    const sealed = rows.map((row) => collectSubjects(row.data, subjects, 0));
    if (subjects.size === 0) return rows;
    const keys = await this.#call('opening personal data', () => this.keys!.keys([...subjects], options));
    return rows.map((row, index) =>
      sealed[index]
        ? { ...row, data: mapEnvelopes(row.data, (envelope) => openWith(envelope, keys), 0) }
        : row,
    );
  }

  /** The fields to seal in `event`, with their subjects; undefined when its type has none. */
  #sealPlan(
    streamId: string,
    event: PreparedEvent,
  ): { path: readonly string[]; subject: string }[] | undefined {
    const declared = this.#fields.get(event.type);
    if (declared === undefined) return undefined;
    if (event.schemaVersion !== declared.version) {
      throw new EventValidationFailed(event.type, streamId, [
        {
          path: ['schemaVersion'],
          code: 'invalid_version',
          message: `Expected the current version ${declared.version}, which declares the personal fields to seal; found v${event.schemaVersion}`,
        },
      ]);
    }
    const issues: ValidationIssue[] = [];
    const plan: { path: readonly string[]; subject: string }[] = [];
    for (const field of declared.fields) {
      let present = false;
      replaceAt(event.data, field.path, 0, (value, at) => {
        present = true;
        if (isForgotten(value)) {
          issues.push({
            path: at.split('.'),
            code: 'forgotten_value',
            message: 'Expected personal data to seal, found the FORGOTTEN placeholder',
          });
        }
        return value;
      });
      if (!present) continue;
      let subject: unknown;
      try {
        subject = field.subject(event.data);
      } catch (error) {
        subject = error instanceof Error ? `an error (${error.message})` : error;
      }
      if (typeof subject !== 'string' || subject.length === 0) {
        issues.push({
          path: [...field.path],
          code: 'invalid_subject',
          message: `Expected the field's subject function to return a non-empty string, found ${JSON.stringify(subject)}`,
        });
        continue;
      }
      plan.push({ path: field.path, subject });
    }
    if (issues.length > 0) throw new EventValidationFailed(event.type, streamId, issues);
    return plan;
  }

  async #call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (isAnnalsError(error)) throw error;
      throw new KeyStoreUnavailable(operation, error);
    }
  }
}

/** `value` with each value at `path` (from segment `index`; `'*'` is every array element) replaced. */
function replaceAt(
  value: unknown,
  path: readonly string[],
  index: number,
  replace: (value: unknown, at: string) => unknown,
  at = '',
): unknown {
  if (index === path.length) return value === undefined || value === null ? value : replace(value, at);
  if (typeof value !== 'object' || value === null) return value;
  const segment = path[index]!;
  const prefix = at === '' ? '' : `${at}.`;
  if (segment === '*') {
    if (!Array.isArray(value)) return value;
    return value.map((item, i) => replaceAt(item, path, index + 1, replace, `${prefix}${i}`));
  }
  if (Array.isArray(value) || !Object.hasOwn(value, segment)) return value;
  const inner = (value as Record<string, unknown>)[segment];
  return { ...value, [segment]: replaceAt(inner, path, index + 1, replace, `${prefix}${segment}`) };
}

/** Adds the subjects of the envelopes in `value` to `subjects`; true when it holds any. */
function collectSubjects(value: unknown, subjects: Set<string>, depth: number): boolean {
  if (typeof value !== 'object' || value === null || depth > 64) return false;
  if (isEnvelope(value)) {
    subjects.add(envelopeFields(value).subject);
    return true;
  }
  let found = false;
  if (Array.isArray(value)) {
    for (const item of value) found = collectSubjects(item, subjects, depth + 1) || found;
  } else {
    for (const key in value) {
      found = collectSubjects((value as Record<string, unknown>)[key], subjects, depth + 1) || found;
    }
  }
  return found;
}

/** A copy of `value` with each envelope replaced by `fn`'s result (parts without envelopes are shared). */
function mapEnvelopes(value: unknown, fn: (envelope: Envelope) => unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null || depth > 64) return value;
  if (isEnvelope(value)) return fn(value);
  if (Array.isArray(value)) return value.map((item) => mapEnvelopes(item, fn, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [key, mapEnvelopes(inner, fn, depth + 1)]),
  );
}

function openWith(envelope: Envelope, keys: ReadonlyMap<string, SubjectKeys>): unknown {
  const { subject, key: version } = envelopeFields(envelope);
  const known = keys.get(subject);
  if (known?.forgotten === true) return FORGOTTEN;
  const key = known?.versions.get(version);
  if (key === undefined) {
    throw new PersonalDataUnreadable(
      subject,
      `the key store holds no key version ${version} for it, and the subject was not forgotten: the key store was lost, or is not the one these events were sealed with`,
    );
  }
  return open(envelope, key);
}
