import { z } from 'zod';
import { EventValidationFailed } from '../errors/store-errors.js';
import type { AnyEventDefinition } from './define-event.js';
import { checkJson, hasUnsafeText, type JsonFlaw, LOOSE, withoutLooseValues } from './exact-json.js';
import { type SchemaMode, schemaMode } from './schema-mode.js';
import { toIssues } from './zod-issues.js';

/**
 * The JSON text of a value stored as it is (the data of an event without a definition, or metadata),
 * after checking that it reads back exactly as it is (see `checkJson`). Object members whose value is
 * `undefined` are left out and -0 is written as 0, as JSON does. Throws {@link EventValidationFailed}
 * naming the path (under `metadata` for metadata) of the first value that would not read back.
 */
export function exactJsonText(
  type: string,
  streamId: string,
  field: 'data' | 'metadata',
  value: unknown,
): string {
  const check = checkJson(value);
  if (check !== undefined && check !== LOOSE) throw flawError(type, streamId, field, check);
  return textOf(type, streamId, field, value);
}

/** The JSON text of a checked value, refusing the NUL character and lone surrogates in its text. */
function textOf(type: string, streamId: string, field: 'data' | 'metadata', value: unknown): string {
  const json = JSON.stringify(value);
  if (hasUnsafeText(json)) throw flawError(type, streamId, field, checkJson(value, true) as JsonFlaw);
  return json;
}

/** The data of a defined event as stored (`data`) and its JSON text. */
export interface EncodedData {
  readonly data: unknown;
  readonly json: string;
}

/**
 * Validates the data of an event of `definition` and returns what is stored: the schema's output, or
 * for a schema with codecs its encoded (JSON) form. Object members whose value is `undefined` are left
 * out and -0 is read as 0 before validation, so what the schema validated is exactly what is stored;
 * any other value that would not read back as it is is refused (see `checkJson`).
 */
export function encodeEventData(
  definition: AnyEventDefinition,
  mode: SchemaMode,
  streamId: string,
  data: unknown,
): EncodedData {
  let stored = validated(definition, mode, streamId, data);
  let check = checkJson(stored);
  if (check === LOOSE) {
    const normal = withoutLooseValues(data);
    if (normal !== data) {
      stored = validated(definition, mode, streamId, normal);
      check = checkJson(stored);
    }
  }
  if (check !== undefined && check !== LOOSE) throw flawError(definition.type, streamId, 'data', check);
  return { data: stored, json: textOf(definition.type, streamId, 'data', stored) };
}

/** The form `data` is stored in: the schema's output, or for `codec` mode its encoded form. */
function validated(
  definition: AnyEventDefinition,
  mode: SchemaMode,
  streamId: string,
  data: unknown,
): unknown {
  const { schema } = definition;
  if (mode !== 'codec') {
    const result = schema.safeParse(data);
    if (!result.success) throw new EventValidationFailed(definition.type, streamId, toIssues(result.error));
    return result.data;
  }
  // The decoded shape (a Date), as the application holds it; or else the encoded one (ISO text).
  const encoded = z.safeEncode(schema, data as never);
  if (encoded.success) return encoded.data;
  const parsed = schema.safeParse(data);
  if (parsed.success) {
    const again = z.safeEncode(schema, parsed.data as never);
    if (again.success) return again.data;
  }
  throw new EventValidationFailed(definition.type, streamId, toIssues(encoded.error));
}

/**
 * The decoded (output) form of `data` given in either shape, for an aggregate's `raise`: the
 * schema's input, or for a schema with codecs also its output (a Date where the log holds text).
 * Undefined object members and -0 are normalized first, as on append, so the state an aggregate
 * reaches on `raise` is the state it reaches when the event is loaded again.
 */
export function parseEventData(definition: AnyEventDefinition, data: unknown): z.ZodSafeParseResult<unknown> {
  const { schema } = definition;
  const normal = withoutLooseValues(data);
  const parsed = schema.safeParse(normal);
  if (parsed.success || schemaMode(schema) !== 'codec') return parsed;
  const encoded = z.safeEncode(schema, normal as never);
  return encoded.success ? schema.safeParse(encoded.data) : parsed;
}

function flawError(
  type: string,
  streamId: string,
  field: 'data' | 'metadata',
  flaw: JsonFlaw,
): EventValidationFailed {
  const path = field === 'metadata' ? ['metadata', ...flaw.path] : flaw.path;
  return new EventValidationFailed(type, streamId, [{ path, code: flaw.code, message: flaw.message }]);
}
