import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EventValidationFailed } from '../errors/store-errors.js';
import { UpcasterRegistry } from '../upcasting/upcaster-registry.js';
import { defineEvent } from './define-event.js';
import { EventRegistry } from './event-registry.js';
import type { StoredEvent } from './event-types.js';
import { checkJson, hasUnsafeText, LOOSE, withoutLooseValues } from './exact-json.js';
import { schemaMode } from './schema-mode.js';

const isoDate = z.codec(z.iso.datetime(), z.date(), {
  decode: (text) => new Date(text),
  encode: (date) => date.toISOString(),
});

const Due = defineEvent('Due', { version: 2, schema: z.object({ on: isoDate, note: z.string() }) });

function stored(data: unknown, schemaVersion = 2): StoredEvent {
  return {
    id: '0190c0de-0000-7000-8000-000000000001',
    type: 'Due',
    schemaVersion,
    streamId: 's',
    revision: 0n,
    position: 1n,
    data,
    metadata: {},
    recordedAt: new Date(1_000),
  };
}

describe('schemaMode', () => {
  it('tells codecs from one-way transforms and plain schemas, however deep they sit', () => {
    expect(schemaMode(z.object({ a: z.string(), b: z.array(z.number().default(1)) }))).toBe('json');
    expect(schemaMode(Due.schema)).toBe('codec');
    expect(schemaMode(z.object({ a: z.array(z.union([z.string(), z.object({ d: isoDate })])) }))).toBe(
      'codec',
    );
    expect(schemaMode(z.object({ a: z.string().transform((s) => s.length) }))).toBe('transform');
    expect(schemaMode(z.object({ a: isoDate, b: z.preprocess((v) => v, z.string()) }))).toBe('transform');
    type Tree = { date: Date; children: Tree[] };
    const tree: z.ZodType<Tree, unknown> = z.lazy(() => z.object({ date: isoDate, children: z.array(tree) }));
    expect(schemaMode(tree)).toBe('codec');
  });
});

describe('data of a schema with codecs', () => {
  it('is stored encoded whichever form it is given in, and decoded on read', () => {
    const registry = new EventRegistry({ events: [Due] });
    const on = new Date('2024-01-02T03:04:05.006Z');
    const [decodedForm, encodedForm] = registry.prepare('s', [
      { type: 'Due', data: { on, note: 'a' } },
      Due.create({ on: on.toISOString(), note: 'b' }),
    ]);
    expect(decodedForm!.dataJson).toBe('{"on":"2024-01-02T03:04:05.006Z","note":"a"}');
    expect(encodedForm!.dataJson).toBe('{"on":"2024-01-02T03:04:05.006Z","note":"b"}');
    const read = registry.decode(stored(JSON.parse(decodedForm!.dataJson)));
    expect(read.data).toEqual({ on, note: 'a' });
    expect(Object.isFrozen(read.data)).toBe(true);
  });

  it('that neither encodes nor parses is refused with the issues of the decoded form', () => {
    const registry = new EventRegistry({ events: [Due] });
    const error = captured(() => registry.prepare('s', [{ type: 'Due', data: { on: 'soon', note: 'a' } }]));
    expect(error).toBeInstanceOf(EventValidationFailed);
    expect((error as EventValidationFailed).issues[0]?.path).toEqual(['on']);
  });

  it('is upcast in its stored form and the upcaster result is decoded', () => {
    const seen: unknown[] = [];
    const upcasters = new UpcasterRegistry().register({
      type: 'Due',
      from: 1,
      to: 2,
      up: (v1: { on: string }) => {
        seen.push(v1.on);
        return { on: v1.on, note: '' };
      },
    });
    const registry = new EventRegistry({ events: [Due], upcasters });
    const read = registry.decode(stored({ on: '2024-01-02T03:04:05.006Z' }, 1));
    expect(seen).toEqual(['2024-01-02T03:04:05.006Z']);
    expect(read.data).toEqual({ on: new Date('2024-01-02T03:04:05.006Z'), note: '' });
    // An import of v1 is proved readable the same way: its upcast result must decode.
    const good = { type: 'Due', schemaVersion: 1, data: { on: '2024-01-02T03:04:05.006Z' } };
    expect(registry.prepare('s', [good], { import: true })[0]!.dataJson).toBe(JSON.stringify(good.data));
    const bad = { type: 'Due', schemaVersion: 1, data: { on: 'never' } };
    expect(() => registry.prepare('s', [bad], { import: true })).toThrow(/on/);
  });

  it('stored data that no longer decodes fails the read with UpcastFailed naming the issue', () => {
    const registry = new EventRegistry({ events: [Due] });
    expect(() => registry.decode(stored({ on: 'garbage', note: 'a' }))).toThrow(/on/);
  });
});

describe('checkJson', () => {
  it('accepts JSON values and reports the path and kind of the first value that is not', () => {
    expect(checkJson({ a: [1, 'x', true, null, { b: {} }] })).toBeUndefined();
    expect(checkJson({ a: undefined })).toBe(LOOSE);
    expect(checkJson([-0])).toBe(LOOSE);
    expect(checkJson({ a: [0, { b: new Date(0) }] })).toMatchObject({
      path: ['a', 1, 'b'],
      code: 'not_json',
    });
    expect(checkJson({ a: new Map() })).toMatchObject({ message: expect.stringMatching(/found a Map/) });
    expect(checkJson({ a: Number.NaN })).toMatchObject({ message: expect.stringMatching(/found NaN/) });
    expect(checkJson(undefined)).toMatchObject({ path: [] });
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(checkJson(cycle)).toMatchObject({ message: expect.stringMatching(/cycle/) });
    expect(checkJson({ k: ['\ud800'] }, true)).toMatchObject({
      path: ['k', 0],
      code: 'unsupported_character',
      message: expect.stringMatching(/lone surrogate \(\\ud800 at index 0\)/),
    });
    expect(checkJson({ '\udfff': 1 }, true)).toMatchObject({ path: ['\udfff'] });
    expect(checkJson({ ok: '\ud83d\ude00' }, true)).toBeUndefined();
  });

  it('hasUnsafeText finds NUL and lone surrogates in JSON text, not escaped backslashes or pairs', () => {
    expect(hasUnsafeText(JSON.stringify({ a: 'x\u0000' }))).toBe(true);
    expect(hasUnsafeText(JSON.stringify({ a: '\ud800' }))).toBe(true);
    expect(hasUnsafeText(JSON.stringify({ '\udc00': 1 }))).toBe(true);
    expect(hasUnsafeText(JSON.stringify({ a: '\\ud800 and \\u0000' }))).toBe(false);
    expect(hasUnsafeText(JSON.stringify({ a: '\ud83d\ude00', b: '\u0001' }))).toBe(false);
  });

  it('withoutLooseValues leaves out undefined members and turns -0 into 0, copying only what changes', () => {
    const same = { a: [1, { b: 'x' }] };
    expect(withoutLooseValues(same)).toBe(same);
    const result = withoutLooseValues({ a: undefined, b: [-0, { c: undefined }], d: new Date(0) });
    expect(result).toEqual({ b: [0, {}], d: new Date(0) });
    expect(Object.is((result.b as number[])[0], 0)).toBe(true);
  });
});

function captured(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}
