/**
 * The first lone surrogate in `text` (a UTF-16 code unit from U+D800 to U+DFFF that is not half of a
 * pair) as `{ index, unit }`, or undefined when the text is well-formed. Stores keep text as UTF-8,
 * which has no encoding for a lone surrogate: PostgreSQL turns each into U+FFFD, so two different
 * strings would be stored as one. Every adapter refuses such text the same way, in core.
 */
export function loneSurrogate(text: string): { readonly index: number; readonly unit: string } | undefined {
  if ((text as unknown as { isWellFormed(): boolean }).isWellFormed()) return undefined;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0xd800 || code > 0xdfff) continue;
    const next = text.charCodeAt(i + 1);
    if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      i++;
      continue;
    }
    return { index: i, unit: `\\u${code.toString(16)}` };
  }
  return undefined;
}

/** Describes a lone surrogate for an error message: `a lone surrogate (\ud800) at index 5`. */
export function describeLoneSurrogate(found: { readonly index: number; readonly unit: string }): string {
  return `a lone surrogate (${found.unit}) at index ${found.index}`;
}

/** The length of `text` in UTF-8 bytes (a lone surrogate counts 3, as its replacement would). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // a pair: two code units, four bytes
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}
