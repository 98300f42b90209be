import type { AggregateClass, Projection, ProjectionRunner, StreamIdStrategy } from '@annals/core';
import type { PostgresEventStore, PostgresProjectionContext } from '@annals/postgres';

/** A secret that allows the console's actions, and the name the action log gives whoever sends it. */
export interface ConsoleToken {
  /** Who it is, as the action log names them (`ops`, `alice`...). */
  readonly label: string;
  /** The secret, sent as `Authorization: Bearer <secret>`. At least 16 characters. */
  readonly secret: string;
}

/** Where the console logs its actions (`console` fits). */
export interface ConsoleLogger {
  info(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

/** Options of {@link createConsole}. */
export interface ConsoleOptions {
  /**
   * The application's store. Its definitions and upcasters give the version each event is read as;
   * the console also reads every event as stored, through the same connection.
   */
  readonly store: PostgresEventStore;
  /** The projections whose rebuild, lag by type, and dead-letter retry the console offers. */
  readonly projections?: readonly Projection<PostgresProjectionContext>[];
  /**
   * The application's runners, when the console is mounted in it: a projection one of them runs is
   * rebuilt on that runner (without leases, as on PGlite, a second runner would apply it too), and
   * goes on live there. Others are rebuilt on a runner of the console's own.
   */
  readonly runners?: readonly ProjectionRunner<any, any>[];
  /**
   * Aggregates whose state the console shows at a chosen revision of their stream, loaded through a
   * `Repository` (`loadAt`). A stream is matched to an aggregate by `Repository.aggregateIdOf`.
   */
  readonly aggregates?: readonly AggregateClass<any>[];
  /** The stream id strategy of the application's repositories. Default: `${aggregateType}-${id}`. */
  readonly streamId?: StreamIdStrategy;
  /**
   * Allow state-changing actions (rebuild, pause, resume, dead-letter retry and discard) to callers
   * that send one of these tokens. Without tokens the console is read-only.
   */
  readonly tokens?: readonly ConsoleToken[];
  /** Where each action is logged (who, what, when, outcome). Default: `console`. */
  readonly logger?: ConsoleLogger;
  /**
   * The path the console is mounted at in your server (`/console`); every route and link is under
   * it. Default: `/`.
   */
  readonly basePath?: string;
}
