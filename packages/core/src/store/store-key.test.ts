import { describe, expect, it } from 'vitest';
import { isAnnalsError } from '../errors/annals-error.js';
import { MAX_KEY_BYTES } from './limits.js';
import { assertStoreKey, storeKeyProblem } from './store-key.js';

describe('storeKeyProblem', () => {
  it('accepts well-formed text up to MAX_KEY_BYTES UTF-8 bytes, surrogate pairs included', () => {
    expect(storeKeyProblem('balances[3/8]')).toBeUndefined();
    expect(storeKeyProblem('é'.repeat(MAX_KEY_BYTES / 2))).toBeUndefined();
    expect(storeKeyProblem('😀'.repeat(MAX_KEY_BYTES / 4)), 'pairs count 4 bytes').toBeUndefined();
    expect(storeKeyProblem(`${'😀'.repeat(MAX_KEY_BYTES / 4)}x`)).toMatch(/^found 1025 bytes/);
  });

  it('says what it found: not a string, empty, NUL, a lone surrogate, too long', () => {
    expect(storeKeyProblem(undefined)).toBe('found undefined');
    expect(storeKeyProblem(12n)).toBe('found a bigint (12n)');
    expect(storeKeyProblem('')).toBe('found ""');
    expect(storeKeyProblem('', { allowEmpty: true }), 'an empty prefix').toBeUndefined();
    expect(storeKeyProblem('ab\u0000')).toBe('found the NUL character at index 2 of "ab\\u0000"');
    expect(storeKeyProblem('a\udc00b')).toBe('found a lone surrogate (\\udc00) at index 1 of "a\\udc00b"');
    expect(storeKeyProblem('x'.repeat(2000))).toBe(`found 2000 bytes (${JSON.stringify('x'.repeat(40))}...)`);
  });
});

describe('assertStoreKey', () => {
  it('throws InvalidArgument naming the argument, the rule with its limit and what it found', () => {
    let caught: unknown;
    try {
      assertStoreKey('lease key', 'k-\ud800');
    } catch (error) {
      caught = error;
    }
    expect(isAnnalsError(caught) && caught.code).toBe('INVALID_ARGUMENT');
    expect((caught as Error).message).toBe(
      'A lease key must be a non-empty string of well-formed text without the NUL character, of at most 1024 UTF-8 bytes (MAX_KEY_BYTES); found a lone surrogate (\\ud800) at index 2 of "k-\\ud800".',
    );
    expect(() => assertStoreKey('lease prefix', '', { allowEmpty: true })).not.toThrow();
    expect(() => assertStoreKey('lease prefix', 'p\u0000', { allowEmpty: true })).toThrow(
      /^A lease prefix must be a string of well-formed text/,
    );
  });
});
