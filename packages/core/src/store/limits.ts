/**
 * The longest stream id every store accepts, in UTF-8 bytes. A longer id is refused with
 * `InvalidArgument` on writes and reads alike. The limit leaves room for the database indexes that
 * hold stream ids (a PostgreSQL btree entry holds at most about 2700 bytes).
 */
export const MAX_STREAM_ID_BYTES = 1024;

/**
 * The highest revision a stream can reach, and the highest one a caller may name (as
 * `expectedRevision`, `fromRevision`, a snapshot's revision...): 2^63 - 1, the largest signed 64-bit
 * integer, which is what stores keep revisions in. A higher one is refused with `InvalidArgument`.
 */
export const MAX_REVISION = 2n ** 63n - 1n;

/** The highest position of the global log a caller may name (`fromPosition`, a checkpoint): 2^63 - 1, as {@link MAX_REVISION}. */
export const MAX_POSITION = 2n ** 63n - 1n;
