/** `\u0000` escapes preceded by an even number of backslashes (an odd count escapes the backslash). */
const NUL_ESCAPE = /(?:^|[^\\])(?:\\\\)*\\u0000/;

/**
 * True when JSON text holds the NUL character (`\u0000`), which PostgreSQL's jsonb cannot store.
 * Checked before sending, so the caller gets a validation error instead of a failed statement.
 */
export function containsNul(json: string): boolean {
  return json.includes('\\u0000') && NUL_ESCAPE.test(json);
}
