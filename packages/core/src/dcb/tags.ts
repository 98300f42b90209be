import { InvalidArgument } from '../errors/store-errors.js';
import { describeLoneSurrogate, loneSurrogate, utf8Length } from '../events/well-formed-text.js';

/** The longest tag every store accepts, in UTF-8 bytes (a PostgreSQL B-tree entry holds it with room to spare). */
export const MAX_TAG_BYTES = 256;
/** The most tags one event may carry (given at append and derived by its definition, together). */
export const MAX_TAGS_PER_EVENT = 64;

const NO_TAGS: readonly string[] = Object.freeze([]);

/** @internal The frozen empty tag list every untagged event shares. */
export function noTags(): readonly string[] {
  return NO_TAGS;
}

/**
 * Throws `InvalidArgument` unless `tag` is a tag every store keeps and matches exactly: a non-empty
 * string of well-formed UTF-16 without the NUL character, at most {@link MAX_TAG_BYTES} bytes of UTF-8.
 * `where` names the place for the message (`event #0 of stream a`, `query item #1`).
 */
export function assertTag(tag: unknown, where: string): asserts tag is string {
  if (typeof tag !== 'string' || tag.length === 0) {
    throw new InvalidArgument(`A tag (${where}) must be a non-empty string, found ${JSON.stringify(tag)}.`);
  }
  if (tag.includes('\u0000')) {
    throw new InvalidArgument(
      `A tag (${where}) must not contain the NUL character (\\u0000); found ${quote(tag)}.`,
    );
  }
  if (tag.length * 3 > MAX_TAG_BYTES) {
    const bytes = utf8Length(tag);
    if (bytes > MAX_TAG_BYTES) {
      throw new InvalidArgument(
        `A tag (${where}) may be at most ${MAX_TAG_BYTES} bytes of UTF-8 (MAX_TAG_BYTES); found ${bytes} bytes in ${quote(tag)}.`,
      );
    }
  }
  const surrogate = loneSurrogate(tag);
  if (surrogate !== undefined) {
    throw new InvalidArgument(
      `A tag (${where}) must be well-formed UTF-16 text, which stores keep exactly; found ${describeLoneSurrogate(surrogate)} of ${quote(tag)}.`,
    );
  }
}

/**
 * The tags of one event: those its definition derives and those given at append, checked, without
 * duplicates, sorted (code-unit order) and frozen. Throws `InvalidArgument` for a bad tag or more than
 * {@link MAX_TAGS_PER_EVENT}.
 */
export function eventTags(
  derived: readonly unknown[] | undefined,
  given: readonly unknown[] | undefined,
  where: string,
): readonly string[] {
  if (derived === undefined && given === undefined) return NO_TAGS;
  for (const [name, list] of [
    ['the definition', derived],
    ['tags', given],
  ] as const) {
    if (list !== undefined && !Array.isArray(list)) {
      throw new InvalidArgument(
        `The tags of ${where} (${name}) must be an array of strings, found ${JSON.stringify(list)}.`,
      );
    }
  }
  const all = [...(derived ?? []), ...(given ?? [])];
  if (all.length === 0) return NO_TAGS;
  for (const tag of all) assertTag(tag, where);
  const unique = [...new Set(all as string[])].sort(compareText);
  if (unique.length > MAX_TAGS_PER_EVENT) {
    throw new InvalidArgument(
      `${where} may carry at most ${MAX_TAGS_PER_EVENT} tags (MAX_TAGS_PER_EVENT), found ${unique.length}.`,
    );
  }
  return Object.freeze(unique);
}

/** Code-unit order, the same on every store (`collate "C"` in PostgreSQL for well-formed text below U+FFFF). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function quote(text: string): string {
  return text.length <= 60 ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, 60))} (cut)`;
}
