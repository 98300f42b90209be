/** `\u0000` escapes preceded by an even number of backslashes (an odd count escapes the backslash). */
const NUL_ESCAPE = /(?:^|[^\\])(?:\\\\)*\\u0000/;

/**
 * True when JSON text holds the NUL character (`\u0000`). Events never carry it (PostgreSQL's text and
 * jsonb cannot store it), so every adapter refuses it the same way, in `EventRegistry.prepare`.
 */
export function containsNul(json: string): boolean {
  return json.includes('\\u0000') && NUL_ESCAPE.test(json);
}
