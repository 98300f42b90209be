import { describe, expect, it } from 'vitest';
import { loneSurrogate, utf8Length } from './well-formed-text.js';

describe('loneSurrogate', () => {
  it('finds the first surrogate that is not half of a pair, by index', () => {
    expect(loneSurrogate('pair-\ud800')).toEqual({ index: 5, unit: '\\ud800' });
    expect(loneSurrogate('\udc00-tail')).toEqual({ index: 0, unit: '\\udc00' });
    // A high surrogate followed by another high one: the first is alone.
    expect(loneSurrogate('a\ud83d\ud83d\ude00')).toEqual({ index: 1, unit: '\\ud83d' });
    // A low surrogate before a high one is a pair in the wrong order: both are alone.
    expect(loneSurrogate('\ude00\ud83d')).toEqual({ index: 0, unit: '\\ude00' });
  });

  it('accepts well-formed text, surrogate pairs included', () => {
    for (const text of ['', 'cart-1', 'é', '😀', 'a😀b😁', '\uffff', '\u0000']) {
      expect(loneSurrogate(text), JSON.stringify(text)).toBeUndefined();
    }
  });
});

describe('utf8Length', () => {
  it('counts the UTF-8 bytes PostgreSQL stores, as Buffer.byteLength does', () => {
    const samples = ['', 'abc', 'é', '€', '😀', 'aé€😀', '\ud800', 'x\udbff', '\udc00\ud800', '\u07ff\u0800'];
    for (const text of samples) {
      expect(utf8Length(text), JSON.stringify(text)).toBe(Buffer.byteLength(text, 'utf8'));
    }
    const long = 'é😀x€'.repeat(300);
    expect(utf8Length(long)).toBe(Buffer.byteLength(long, 'utf8'));
  });
});
