import { z } from 'zod';

/** What a personal field reads as once its subject was forgotten (see {@link FORGOTTEN}). */
export interface Forgotten {
  readonly $forgotten: true;
}

/**
 * The placeholder every read path returns for a personal field whose subject was forgotten
 * (`forget(store, subject)`): the JSON object `{ "$forgotten": true }`. Test for it with
 * {@link isForgotten}; a field declared with `personal()` accepts it on read, so schemas and upcasters
 * see a value they can handle. Appending it as personal data is refused.
 */
export const FORGOTTEN: Forgotten = Object.freeze({ $forgotten: true as const });

/** True when `value` is the {@link FORGOTTEN} placeholder (also a copy of it, after JSON). */
export function isForgotten(value: unknown): value is Forgotten {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === '$forgotten' && (value as Forgotten).$forgotten === true;
}

/** The zod schema of {@link FORGOTTEN}, the second member of every `personal()` field. */
export const forgottenSchema = z.object({ $forgotten: z.literal(true) }).strict();
