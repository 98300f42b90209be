import type { z } from 'zod';

/**
 * How the data of an event definition is written and read, decided once per schema:
 *
 * - `json`: the schema has no codec and no transform. The data is stored as the schema's output,
 *   and events at the current version are read back without parsing them again.
 * - `codec`: the schema has codecs (`z.codec`, `z.stringbool()`...) and no one-way transform. The
 *   data is stored encoded (`z.encode`: the codec's JSON side) and decoded (`z.decode`) on every read.
 * - `transform`: the schema has a one-way transform (`.transform()`, `z.preprocess`), which cannot be
 *   encoded. The data is stored as the schema's output, as with `json`.
 */
export type SchemaMode = 'json' | 'codec' | 'transform';

const modes = new WeakMap<object, SchemaMode>();

/** The {@link SchemaMode} of `schema`, found by walking it once and cached. */
export function schemaMode(schema: z.ZodType): SchemaMode {
  let mode = modes.get(schema);
  if (mode === undefined) {
    const found = { codec: false, oneWay: false };
    walk(schema as unknown as SchemaInternals, found, new Set());
    mode = found.oneWay ? 'transform' : found.codec ? 'codec' : 'json';
    modes.set(schema, mode);
  }
  return mode;
}

interface Found {
  codec: boolean;
  oneWay: boolean;
}

interface SchemaInternals {
  readonly _zod: { readonly def: Readonly<Record<string, unknown>> & { readonly type: string } };
}

function isSchema(value: unknown): value is SchemaInternals {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

/** Visits every schema reachable from `schema` (object shapes, items, options, inner and lazy types). */
function walk(schema: SchemaInternals, found: Found, seen: Set<object>): void {
  if (seen.has(schema)) return;
  seen.add(schema);
  const { def } = schema._zod;
  if (def.type === 'transform') found.oneWay = true;
  if (def.type === 'pipe' && typeof def.reverseTransform === 'function') found.codec = true;
  for (const key of Object.keys(def)) {
    if (key === 'type' || key === 'checks' || key === 'defaultValue' || key === 'catchValue') continue;
    let child: unknown;
    try {
      child = key === 'getter' && def.type === 'lazy' ? (def.getter as () => unknown)() : def[key];
    } catch {
      continue; // a lazy getter that fails now fails again on parse, with zod's own message
    }
    visit(child, found, seen);
  }
}

function visit(child: unknown, found: Found, seen: Set<object>): void {
  if (isSchema(child)) walk(child, found, seen);
  else if (Array.isArray(child)) for (const item of child) visit(item, found, seen);
  else if (typeof child === 'object' && child !== null && Object.getPrototypeOf(child) === Object.prototype) {
    // An object's shape: its values are schemas.
    for (const item of Object.values(child)) if (isSchema(item)) walk(item, found, seen);
  }
}
