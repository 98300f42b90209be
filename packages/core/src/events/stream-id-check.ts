import { InvalidArgument } from '../errors/store-errors.js';
import { MAX_STREAM_ID_BYTES } from '../store/limits.js';
import { describeLoneSurrogate, loneSurrogate, utf8Length } from './well-formed-text.js';

/**
 * Throws `InvalidArgument` unless `streamId` is a non-empty string that every store can keep apart
 * from every other: without the NUL character, well-formed UTF-16 (no lone surrogate, which a
 * database would store as U+FFFD) and at most {@link MAX_STREAM_ID_BYTES} bytes of UTF-8. Every store
 * checks stream ids with it, on writes and on reads.
 */
export function assertStreamId(streamId: unknown): asserts streamId is string {
  if (typeof streamId !== 'string' || streamId.length === 0) {
    throw new InvalidArgument(`A stream id must be a non-empty string, found ${JSON.stringify(streamId)}.`);
  }
  if (streamId.includes('\u0000')) {
    throw new InvalidArgument(
      `A stream id must not contain the NUL character (\\u0000); found ${quoteStart(streamId)}.`,
    );
  }
  // A UTF-16 code unit is at most 3 bytes of UTF-8: only a long id needs counting.
  if (streamId.length * 3 > MAX_STREAM_ID_BYTES) {
    const bytes = utf8Length(streamId);
    if (bytes > MAX_STREAM_ID_BYTES) {
      throw new InvalidArgument(
        `A stream id may be at most ${MAX_STREAM_ID_BYTES} bytes of UTF-8 (MAX_STREAM_ID_BYTES); found ${bytes} bytes in ${quoteStart(streamId)}.`,
      );
    }
  }
  const surrogate = loneSurrogate(streamId);
  if (surrogate !== undefined) {
    throw new InvalidArgument(
      `A stream id must be well-formed UTF-16 text, which stores keep exactly; found ${describeLoneSurrogate(surrogate)} of ${quoteStart(streamId)}.`,
    );
  }
}

/** `text` as JSON, cut after 60 characters so a message never repeats a huge value. */
function quoteStart(text: string): string {
  return text.length <= 60 ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, 60))} (cut)`;
}
