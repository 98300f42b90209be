/**
 * Event data and metadata are stored as JSON, so only values that read back exactly as they are may
 * be stored: the check here finds the first one that would not, with its path, before anything is
 * written. Every adapter goes through it (in `EventRegistry.prepare`).
 */

/** Where the docs explain what may be stored and how to carry a Date. */
const DOCS = 'docs/concepts/overview.md#what-data-may-hold';

/** What the check expects, said once in every message about a value. */
const EXPECTED = 'Expected a JSON value (string, finite number, boolean, null, plain object or array)';

/** A value that would not read back as it is: its path (from the checked value) and why. */
export interface JsonFlaw {
  readonly path: (string | number)[];
  readonly code: 'not_json' | 'unsupported_character';
  readonly message: string;
}

/**
 * The outcome of {@link checkJson}: undefined when the value reads back exactly as it is, {@link LOOSE}
 * when it does once its object members whose value is `undefined` are left out and -0 is read as 0
 * (what JSON does with them), or the first flaw.
 */
export type JsonCheck = JsonFlaw | typeof LOOSE | undefined;

/** See {@link JsonCheck}. */
export const LOOSE = 1;

/** Beyond this depth the check stops and asks JSON.stringify: a cycle, or nesting no store keeps. */
const MAX_DEPTH = 1_000;

interface WellFormed {
  isWellFormed(): boolean;
}

/** True when `text` holds no lone surrogate (`'\ud800'`): UTF-8 and PostgreSQL cannot keep one. */
export function isWellFormedText(text: string): boolean {
  return (text as unknown as WellFormed).isWellFormed();
}

/** Set by a walk that met an undefined member or -0 (see {@link LOOSE}). */
let loose = false;
/** Whether the walk checks text too; the usual way to check it is {@link hasUnsafeText} on the JSON. */
let checkingText = false;

/**
 * Checks that `value` reads back from JSON exactly as it is (see {@link JsonCheck}): strings, finite
 * numbers, booleans, null, and plain objects (prototype `Object.prototype` or null) and arrays of such
 * values. Refused: a Date, Map, Set, class instance, boxed primitive, NaN, ±Infinity, bigint,
 * function, symbol, `undefined` in an array or at the top, and a cycle. With `text`, strings and keys
 * must also be well-formed UTF-16 without the NUL character; without it, check the JSON text with
 * {@link hasUnsafeText} (one scan of the text instead of one per string), and walk again with `text`
 * for the path when it finds something.
 */
export function checkJson(value: unknown, text = false): JsonCheck {
  loose = false;
  checkingText = text;
  let flaw: JsonFlaw | undefined;
  try {
    flaw = checkValue(value, 0);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    flaw = tooDeep();
  }
  if (flaw !== undefined) return flaw;
  return loose ? LOOSE : undefined;
}

function checkValue(value: unknown, depth: number): JsonFlaw | undefined {
  switch (typeof value) {
    case 'string':
      return checkingText ? checkText(value, 'a string') : undefined;
    case 'number':
      if (Number.isFinite(value)) {
        if (value === 0 && 1 / value < 0) loose = true;
        return undefined;
      }
      return notJson(`found ${value}, which JSON writes as null`);
    case 'boolean':
      return undefined;
    case 'object':
      if (value === null) return undefined;
      if (depth >= MAX_DEPTH) return tooDeep();
      return Array.isArray(value) ? checkArray(value, depth) : checkObject(value, depth);
    case 'undefined':
      return notJson('found undefined, which JSON leaves out');
    case 'bigint':
      return notJson(`found a bigint (${value}n), which JSON cannot write; use a string or a number`);
    default:
      return notJson(`found a ${typeof value}, which JSON leaves out`);
  }
}

function checkArray(array: readonly unknown[], depth: number): JsonFlaw | undefined {
  if (Object.getPrototypeOf(array) !== Array.prototype) return notJson(`found ${describe(array)}`);
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    const flaw =
      item === undefined
        ? notJson('found undefined (or a hole) in an array, which JSON writes as null')
        : checkValue(item, depth + 1);
    if (flaw !== undefined) {
      flaw.path.unshift(i);
      return flaw;
    }
  }
  return undefined;
}

function checkObject(object: object, depth: number): JsonFlaw | undefined {
  const prototype = Object.getPrototypeOf(object);
  if (prototype !== Object.prototype && prototype !== null) return notJson(`found ${describe(object)}`);
  const record = object as Record<string, unknown>;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    const item = record[key];
    let flaw: JsonFlaw | undefined;
    if (item === undefined) loose = true;
    else flaw = checkValue(item, depth + 1);
    if (checkingText) flaw ??= checkText(key, 'a key');
    if (flaw !== undefined) {
      flaw.path.unshift(key);
      return flaw;
    }
  }
  return undefined;
}

function checkText(text: string, what: string): JsonFlaw | undefined {
  if (!isWellFormedText(text)) {
    return {
      path: [],
      code: 'unsupported_character',
      message: `Expected well-formed text; found ${what} with a lone surrogate (${loneSurrogate(text)}), which UTF-8 and PostgreSQL cannot keep`,
    };
  }
  if (text.includes('\u0000')) {
    return {
      path: [],
      code: 'unsupported_character',
      message: `Expected text without the NUL character (\\u0000), which stores cannot keep; found ${what} with it`,
    };
  }
  return undefined;
}

/**
 * `\u0000` or a `\ud800`-`\udfff` escape preceded by an even number of backslashes (an odd count
 * escapes the backslash). JSON.stringify writes the NUL character and a lone surrogate, and only
 * them among what may matter here, as such escapes.
 */
const UNSAFE_ESCAPE = /(?:^|[^\\])(?:\\\\)*\\u(?:0000|d[89a-f])/;

/**
 * True when the JSON text written by `JSON.stringify` holds the NUL character or a lone surrogate
 * (in a string or a key), which no store can keep as it is.
 */
export function hasUnsafeText(json: string): boolean {
  return json.includes('\\u') && UNSAFE_ESCAPE.test(json);
}

function notJson(found: string): JsonFlaw {
  return { path: [], code: 'not_json', message: `${EXPECTED}; ${found}. See ${DOCS}` };
}

function tooDeep(): JsonFlaw {
  return notJson(`found a cycle or objects nested deeper than ${MAX_DEPTH} levels`);
}

/** "a Date", "a Map", "an instance of Money", "an object with a null prototype"... */
function describe(value: object): string {
  if (value instanceof Date) return 'a Date; use a codec (z.codec) or an ISO 8601 string';
  if (value instanceof Map) return 'a Map, which JSON writes as {}; use a plain object or an array of pairs';
  if (value instanceof Set) return 'a Set, which JSON writes as {}; use an array';
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  const kind =
    typeof name === 'string' && name.length > 0 ? `an instance of ${name}` : 'an object that is not plain';
  return `${kind}, which JSON reads back as a plain object (or not at all)`;
}

/** The first lone surrogate of `text`, as an escape (`\ud800`). */
function loneSurrogate(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0xd800 || unit > 0xdfff) continue;
    const next = text.charCodeAt(i + 1);
    if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      i++;
      continue;
    }
    return `\\u${unit.toString(16)} at index ${i}`;
  }
  return 'none';
}

/**
 * `value` with its object members whose value is `undefined` left out and -0 read as 0, as JSON
 * would store it; the value itself when it has neither. Plain objects and arrays are copied where they
 * change; anything else is kept as it is (the check refuses what JSON cannot store).
 */
export function withoutLooseValues<T>(value: T, depth = 0): T {
  if (typeof value === 'number') return (value === 0 ? 0 : value) as T;
  if (typeof value !== 'object' || value === null || depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const normal = withoutLooseValues(item, depth + 1);
      if (normal !== item || (item === 0 && 1 / item < 0)) {
        copy ??= value.slice();
        copy[i] = normal;
      }
    }
    return (copy ?? value) as T;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(record)) {
    const item = record[key];
    if (item === undefined) {
      copy ??= { ...record };
      delete copy[key];
      continue;
    }
    const normal = withoutLooseValues(item, depth + 1);
    if (normal !== item || (item === 0 && 1 / (item as number) < 0)) {
      copy ??= { ...record };
      copy[key] = normal;
    }
  }
  return (copy ?? value) as T;
}
