/**
 * The exit codes of the `annals` command. Scripts may rely on them; a new code is only ever added.
 */
export const EXIT_CODES = Object.freeze({
  /** The command did what it was asked. */
  ok: 0,
  /** It failed: the one-line message on stderr names the error code (`AnnalsError.code`). */
  failed: 1,
  /** Bad usage: an unknown command or option, a missing argument, or an `INVALID_ARGUMENT`. */
  usage: 2,
  /** The database could not be reached (`STORE_UNAVAILABLE`). */
  unavailable: 3,
  /** The schema is missing or behind (`SCHEMA_NOT_MIGRATED`): run `annals migrate`. */
  notMigrated: 4,
  /** A check found problems: `verify` found events that no longer read, `verify --chain` (or `seal --checkpoint`) found the hash chain broken, `migrate --dry-run` found pending migrations with `--check`. */
  checkFailed: 5,
  /** Stopped by Ctrl-C (SIGINT) before it finished, e.g. a rebuild. */
  interrupted: 130,
});

/** One of {@link EXIT_CODES}. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];
