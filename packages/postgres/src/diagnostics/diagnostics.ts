import { type Kysely, sql } from 'kysely';

/** A transaction that is open in the cluster, as `pg_stat_activity` shows it. */
export interface OpenTransaction {
  /** Backend process id: `select pg_terminate_backend(pid)` ends it. */
  readonly pid: number;
  /** Its transaction id (xid8), when it has written something. */
  readonly transactionId: bigint | undefined;
  readonly startedAt: Date | undefined;
  /** How long it has been open, in milliseconds. */
  readonly ageMs: number;
  /** `active`, `idle in transaction`, ... */
  readonly state: string | undefined;
  /** Its current (or last) statement. */
  readonly query: string | undefined;
  readonly applicationName: string | undefined;
  readonly user: string | undefined;
  readonly database: string | undefined;
  /** True when it is the transaction that holds the readers' horizon back. */
  readonly holdsHorizon: boolean;
}

/** A prepared (two-phase) transaction: it holds the horizon back until committed or rolled back. */
export interface PreparedTransaction {
  readonly transactionId: bigint;
  readonly gid: string;
  readonly preparedAt: Date;
  readonly owner: string;
  readonly database: string;
}

/**
 * What holds the readers of the global log back. Readers see only positions below `horizon`: the
 * events of every transaction older than the oldest one still running. A long open transaction
 * anywhere in the cluster (not only an append) stops the horizon.
 */
export interface PostgresDiagnostics {
  /** Readers see positions below this. */
  readonly horizon: bigint;
  /** The oldest transaction id still running (the snapshot's xmin). */
  readonly oldestRunningTransactionId: bigint;
  /** The next transaction id the cluster will assign. */
  readonly nextTransactionId: bigint;
  /** Highest position readers can see, or undefined when none. */
  readonly lastVisiblePosition: bigint | undefined;
  /** Highest committed position, visible or not. */
  readonly lastCommittedPosition: bigint | undefined;
  /**
   * Committed events above the horizon, which readers cannot see yet: the lag a long transaction
   * causes. Counted up to 10 000 (larger counts are reported as 10 000).
   */
  readonly eventsBehindHorizon: number;
  /**
   * The oldest open transaction that has a transaction id, or undefined. When `holdsHorizon` is
   * true, ending it moves the horizon.
   */
  readonly oldestTransaction: OpenTransaction | undefined;
  /** The open transactions that have a transaction id, oldest first (at most 20). */
  readonly openTransactions: readonly OpenTransaction[];
  /** Prepared transactions, which hold the horizon like open ones. */
  readonly preparedTransactions: readonly PreparedTransaction[];
}

const COUNT_CAP = 10_000;
const OPEN_TRANSACTIONS_LISTED = 20;

/** Reads {@link PostgresDiagnostics} for the events table of `schema`. */
export async function readDiagnostics(db: Kysely<any>, schema: string): Promise<PostgresDiagnostics> {
  const events = sql.id(schema, 'events');
  const horizonRow = await sql<{
    xmin: string;
    xmax: string;
    last_visible: string | null;
    last_committed: string | null;
    behind: string;
  }>`with snap as (select pg_current_snapshot() as s)
    select pg_snapshot_xmin(s)::text as xmin, pg_snapshot_xmax(s)::text as xmax,
      (select max(position) from ${events} where position < (pg_snapshot_xmin(s)::text::bigint << 20))::text as last_visible,
      (select max(position) from ${events})::text as last_committed,
      (select count(*) from (select 1 from ${events} where position >= (pg_snapshot_xmin(s)::text::bigint << 20)
        limit ${sql.lit(COUNT_CAP)}) behind)::text as behind
    from snap`.execute(db);
  const h = horizonRow.rows[0]!;
  const xmin = BigInt(h.xmin);
  // backend_xid is a 32-bit xid: compare it with the low 32 bits of xmin.
  const activity = await sql<{
    pid: number;
    backend_xid: string | null;
    xact_start: Date | null;
    age_ms: string | null;
    state: string | null;
    query: string | null;
    application_name: string | null;
    usename: string | null;
    datname: string | null;
    holds: boolean;
  }>`select pid, backend_xid::text as backend_xid, xact_start,
      (extract(epoch from (clock_timestamp() - xact_start)) * 1000)::bigint::text as age_ms,
      state, query, application_name, usename::text as usename, datname::text as datname,
      (backend_xid::text::bigint = (${h.xmin}::bigint % 4294967296)) as holds
    from pg_stat_activity
    where backend_xid is not null and pid <> pg_backend_pid()
    order by age(backend_xid) desc
    limit ${sql.lit(OPEN_TRANSACTIONS_LISTED)}`.execute(db);
  const prepared = await sql<{
    transaction: string;
    gid: string;
    prepared: Date;
    owner: string;
    database: string;
  }>`select transaction::text as transaction, gid, prepared, owner::text as owner, database::text as database
    from pg_prepared_xacts order by age(transaction) desc`.execute(db);
  // A running xid is at or above xmin: give a 32-bit xid the epoch that puts it there.
  const withEpoch = (xid: string) => {
    const full = ((xmin >> 32n) << 32n) | BigInt(xid);
    return full < xmin ? full + (1n << 32n) : full;
  };
  const open = activity.rows.map(
    (a): OpenTransaction => ({
      pid: Number(a.pid),
      transactionId: a.backend_xid === null ? undefined : withEpoch(a.backend_xid),
      startedAt: a.xact_start ?? undefined,
      ageMs: a.age_ms === null ? 0 : Number(a.age_ms),
      state: a.state ?? undefined,
      query: a.query ?? undefined,
      applicationName: a.application_name ?? undefined,
      user: a.usename ?? undefined,
      database: a.datname ?? undefined,
      holdsHorizon: a.holds === true,
    }),
  );
  return {
    horizon: xmin << 20n,
    oldestRunningTransactionId: xmin,
    nextTransactionId: BigInt(h.xmax),
    lastVisiblePosition: h.last_visible === null ? undefined : BigInt(h.last_visible),
    lastCommittedPosition: h.last_committed === null ? undefined : BigInt(h.last_committed),
    eventsBehindHorizon: Number(h.behind),
    oldestTransaction: open[0],
    openTransactions: open,
    preparedTransactions: prepared.rows.map((p) => ({
      transactionId: withEpoch(p.transaction),
      gid: p.gid,
      preparedAt: p.prepared,
      owner: p.owner,
      database: p.database,
    })),
  };
}
