import { z } from 'zod';
import { InvalidArgument } from '../errors/store-errors.js';
import { forgottenSchema } from './forgotten.js';

/** How `personal()` names the data subject a field belongs to. */
export interface PersonalOptions {
  /**
   * The subject (e.g. the customer id) whose key seals this field, computed from the whole event
   * data as appended. A non-empty string that is not itself personal data: it is stored in clear.
   */
  readonly subject: (data: any) => string;
}

/** The registry of `personal()` fields (zod metadata, so the declaration lives in the schema). */
const personalFields = z.registry<PersonalOptions>();

/**
 * Declares a field of an event's zod schema as personal data of a subject. On append the field is
 * sealed with AES-256-GCM under the subject's key; every read path opens it again, or returns
 * {@link FORGOTTEN} once `forget(store, subject)` destroyed the key. The returned schema accepts the
 * field's values and `FORGOTTEN`, so the read type says a field may be forgotten.
 *
 * Fields may sit in objects, arrays, optional, nullable and default wrappers, at any depth.
 *
 * @example
 * ```ts
 * const CustomerRegistered = defineEvent('CustomerRegistered', {
 *   schema: z.object({
 *     customerId: z.string(),
 *     email: personal(z.string().email(), { subject: (data) => data.customerId }),
 *   }),
 * });
 * ```
 */
export function personal<T extends z.ZodType>(
  schema: T,
  options: PersonalOptions,
): z.ZodUnion<readonly [T, typeof forgottenSchema]> {
  if (typeof options?.subject !== 'function') {
    throw new InvalidArgument(
      `personal() expects { subject: (data) => string }, found ${JSON.stringify(options)}.`,
    );
  }
  const field = z.union([schema, forgottenSchema]);
  personalFields.add(field, options);
  return field;
}

/** One personal field of a schema: where it is (`'*'` for every array element) and its subject. */
export interface PersonalField {
  readonly path: readonly string[];
  readonly subject: (data: any) => string;
}

/** The personal fields declared in `schema`, found through objects, arrays and wrappers. */
export function personalFieldsOf(schema: z.ZodType): PersonalField[] {
  const found: PersonalField[] = [];
  walk(schema, [], found, 0);
  return found;
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

function walk(schema: z.ZodType, path: string[], found: PersonalField[], depth: number): void {
  if (depth > 64) return;
  const options = personalFields.get(schema);
  if (options !== undefined) {
    if (path.length === 0) {
      throw new InvalidArgument('personal() marks a field of an event schema, not the whole event data.');
    }
    found.push({ path, subject: options.subject });
    return;
  }
  const def = (schema as { def?: { type?: string } }).def as Record<string, unknown> | undefined;
  if (def === undefined) return;
  if (def.type === 'object') {
    const shape = (schema as unknown as z.ZodObject).shape;
    for (const [key, field] of Object.entries(shape))
      walk(field as z.ZodType, [...path, key], found, depth + 1);
  } else if (def.type === 'array') {
    walk(def.element as z.ZodType, [...path, '*'], found, depth + 1);
  } else if (WRAPPERS.has(def.type as string)) {
    walk(def.innerType as z.ZodType, path, found, depth + 1);
  } else if (def.type === 'pipe') {
    walk(def.in as z.ZodType, path, found, depth + 1);
  }
}
