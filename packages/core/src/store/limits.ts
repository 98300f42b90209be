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

/**
 * The longest key every store accepts, in UTF-8 bytes: checkpoint keys, lease keys and owners (and
 * the prefix `list` takes), dead-letter projection names and keys. A longer one is refused with
 * `InvalidArgument`, as are keys with the NUL character or a lone surrogate (see `assertStoreKey`);
 * so is a projection name, whose keys add a shard suffix (see {@link MAX_PROJECTION_NAME_LENGTH}).
 * The same limit as {@link MAX_STREAM_ID_BYTES}, for the same reason: these keys are PostgreSQL
 * `text primary key`s, whose btree entries hold at most about 2700 bytes.
 */
export const MAX_KEY_BYTES = 1024;

/**
 * The longest projection name `defineProjection` accepts, in characters (UTF-16 code units): at most
 * 600 UTF-8 bytes, so its checkpoint, lease and shard keys (`name[3/8]`) stay within
 * {@link MAX_KEY_BYTES}. The name must also be well-formed text without the NUL character.
 */
export const MAX_PROJECTION_NAME_LENGTH = 200;
