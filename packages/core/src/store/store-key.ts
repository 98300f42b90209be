import { InvalidArgument } from '../errors/store-errors.js';
import { describeLoneSurrogate, loneSurrogate, utf8Length } from '../events/well-formed-text.js';
import { MAX_KEY_BYTES } from './limits.js';

/** Options of {@link assertStoreKey} and {@link storeKeyProblem}. */
export interface StoreKeyOptions {
  /** Accept the empty string (a prefix that matches every key). Default false. */
  readonly allowEmpty?: boolean;
}

/**
 * What makes `value` unusable as a key a store keeps as text (a checkpoint key, a lease key or
 * owner, a dead-letter projection name), as `found ...`; undefined when it is usable. A key must be
 * a string, non-empty unless `allowEmpty`, without the NUL character (PostgreSQL text cannot hold
 * it), without a lone surrogate (UTF-8 storage would turn it into U+FFFD, making two keys one) and
 * at most {@link MAX_KEY_BYTES} UTF-8 bytes (a longer one would overflow a btree index entry).
 */
export function storeKeyProblem(value: unknown, options: StoreKeyOptions = {}): string | undefined {
  if (typeof value !== 'string') return `found ${describeNonString(value)}`;
  if (value.length === 0 && options.allowEmpty !== true) return 'found ""';
  const nul = value.indexOf('\u0000');
  if (nul >= 0) return `found the NUL character at index ${nul} of ${excerpt(value)}`;
  const surrogate = loneSurrogate(value);
  if (surrogate !== undefined) return `found ${describeLoneSurrogate(surrogate)} of ${excerpt(value)}`;
  const bytes = utf8Length(value);
  if (bytes > MAX_KEY_BYTES) return `found ${bytes} bytes (${excerpt(value)})`;
  return undefined;
}

/**
 * Checks a key every store keeps as text (see {@link storeKeyProblem}) and throws `InvalidArgument`
 * naming the argument (`what`, such as `'lease key'`), the rule with its limit, and what was found.
 * Every store, in memory and on PostgreSQL, calls it before touching its data, so they refuse the
 * same keys the same way.
 *
 * @example
 * ```ts
 * assertStoreKey('lease key', key); // InvalidArgument: A lease key must be ... found 3000 bytes ("aaaa...")
 * ```
 */
export function assertStoreKey(
  what: string,
  value: unknown,
  options: StoreKeyOptions = {},
): asserts value is string {
  const problem = storeKeyProblem(value, options);
  if (problem === undefined) return;
  throw new InvalidArgument(
    `A ${what} must be a ${options.allowEmpty === true ? '' : 'non-empty '}string of well-formed text without the NUL character, of at most ${MAX_KEY_BYTES} UTF-8 bytes (MAX_KEY_BYTES); ${problem}.`,
  );
}

/** The start of `text`, quoted, for a message (JSON escapes show lone surrogates and NUL). */
function excerpt(text: string): string {
  return text.length <= 40 ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, 40))}...`;
}

function describeNonString(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  return `a ${typeof value} (${typeof value === 'bigint' ? `${value}n` : String(value)})`;
}
