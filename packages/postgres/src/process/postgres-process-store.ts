import type {
  ClaimDueOptions,
  CommandOutcome,
  ProcessRecord,
  ProcessStore,
  ProcessTimer,
  TimerChanges,
  TimerRef,
} from '@annals/core';
import {
  assertClaimDueOptions,
  assertProcessTimer,
  assertStoreKey,
  assertTimerRef,
} from '@annals/core/adapter';
import { type Kysely, sql } from 'kysely';
import { checkPruneOptions, type PruneOptions, pruneOlderThan } from '../messaging/prune.js';
import { assertSchemaName } from '../schema/schema-name.js';
import type { AnnalsTablesLocation } from '../schema/tables.js';
import { runTransaction } from '../store/transaction.js';
import { orUnavailable } from '../store/unavailable.js';

interface TimerRow {
  readonly process: string;
  readonly key: string;
  readonly name: string;
  readonly due_at: Date | string;
  readonly message: unknown;
  readonly scheduled_by: string;
}

/**
 * The {@link ProcessStore} on PostgreSQL: `process_states` (an instance's state, position and
 * pending timers), `process_timers` (the durable timers) and `process_commands` (each sent command's
 * outcome), created by `store.migrate()` (migration `0007_process_timers`). A commit writes the
 * instance and its timers in one transaction, by compare-and-swap on the instance's position. Due
 * timers are claimed with `FOR UPDATE SKIP LOCKED` and a claim that expires, so two runners never
 * claim the same timer at once. Times are the caller's (`now`), so a test clock moves them.
 *
 * @example
 * ```ts
 * const processes = new PostgresProcessStore(store);
 * await processes.pending('transfer-process'); // the pending timers
 * ```
 */
export class PostgresProcessStore implements ProcessStore {
  readonly #location: AnnalsTablesLocation;

  constructor(location: AnnalsTablesLocation) {
    assertSchemaName(location?.schema);
    this.#location = location;
  }

  async load(process: string, key: string): Promise<ProcessRecord | undefined> {
    return orUnavailable(`loading process ${process} ${key}`, async () => {
      assertStoreKey('process name', process);
      assertStoreKey('process key', key);
      const { rows } = await sql<{ state: unknown; position: string; timers: unknown; completed: boolean }>`
        select state, position::text as position, timers, completed from ${this.#t('process_states')}
        where process = ${process} and key = ${key}`.execute(this.#db());
      const row = rows[0];
      if (row === undefined) return undefined;
      return {
        state: row.state,
        position: BigInt(row.position),
        timers: row.timers as ProcessRecord['timers'],
        completed: row.completed,
      };
    });
  }

  async commit(
    process: string,
    key: string,
    record: ProcessRecord,
    changes: TimerChanges,
    expected: bigint | undefined,
  ): Promise<boolean> {
    return orUnavailable(`committing process ${process} ${key}`, async () => {
      assertStoreKey('process name', process);
      assertStoreKey('process key', key);
      for (const timer of changes.schedule) assertProcessTimer(timer);
      const states = this.#t('process_states');
      const state = JSON.stringify(record.state ?? null);
      const timers = JSON.stringify(record.timers);
      const position = record.position.toString();
      return runTransaction(this.#db(), async (tx) => {
        const { rows } =
          expected === undefined
            ? await sql`
                insert into ${states} (process, key, state, position, timers, completed)
                values (${process}, ${key}, ${state}::jsonb, ${position}::bigint, ${timers}::jsonb, ${record.completed})
                on conflict (process, key) do nothing
                returning key`.execute(tx)
            : await sql`
                update ${states} set state = ${state}::jsonb, position = ${position}::bigint,
                  timers = ${timers}::jsonb, completed = ${record.completed}, updated_at = now()
                where process = ${process} and key = ${key} and position = ${expected.toString()}::bigint
                returning key`.execute(tx);
        // Another runner applied this input (or a later one): nothing is written.
        if (rows.length !== 1) return false;
        if (changes.cancel.length > 0) {
          await sql`delete from ${this.#t('process_timers')}
            where process = ${process} and key = ${key} and name in (${sql.join(changes.cancel)})`.execute(
            tx,
          );
        }
        for (const timer of changes.schedule) await this.#put(tx, timer);
        return true;
      });
    });
  }

  async outcome(commandId: string): Promise<CommandOutcome | undefined> {
    return orUnavailable(`reading the outcome of command ${commandId}`, async () => {
      assertStoreKey('command id', commandId);
      const { rows } = await sql<{ outcome: CommandOutcome }>`
        select outcome from ${this.#t('process_commands')} where command_id = ${commandId}`.execute(
        this.#db(),
      );
      return rows[0]?.outcome;
    });
  }

  async recordOutcome(commandId: string, outcome: CommandOutcome): Promise<void> {
    return orUnavailable(`recording the outcome of command ${commandId}`, async () => {
      assertStoreKey('command id', commandId);
      await sql`insert into ${this.#t('process_commands')} (command_id, outcome)
        values (${commandId}, ${JSON.stringify(outcome)}::jsonb)
        on conflict (command_id) do nothing`.execute(this.#db());
    });
  }

  /**
   * Removes the outcomes of commands sent more than `olderThanMs` ago, oldest first, in batches;
   * resolves with how many it removed. A process manager reads an outcome only when it handles the
   * event that sent the command again (after a crash, before its state committed), so keep outcomes
   * longer than that can take. Run it from one process at a time, or with `annals prune`.
   */
  async prune(options: PruneOptions): Promise<number> {
    const checked = checkPruneOptions('PostgresProcessStore', options);
    const target = { schema: this.#location.schema, table: 'process_commands', column: 'recorded_at' };
    return pruneOlderThan(target, checked, (work) =>
      orUnavailable('pruning process command outcomes', () => work(this.#db())),
    );
  }

  async schedule(timer: ProcessTimer): Promise<void> {
    return orUnavailable(`scheduling timer ${timer?.name}`, async () => {
      assertProcessTimer(timer);
      await this.#put(this.#db(), timer);
    });
  }

  async cancel(ref: TimerRef): Promise<void> {
    return orUnavailable(`cancelling timer ${ref?.name}`, async () => {
      assertTimerRef(ref);
      await sql`delete from ${this.#t('process_timers')}
        where process = ${ref.process} and key = ${ref.key} and name = ${ref.name}`.execute(this.#db());
    });
  }

  async claimDue(options: ClaimDueOptions): Promise<readonly ProcessTimer[]> {
    return orUnavailable('claiming due timers', async () => {
      assertClaimDueOptions(options);
      if (options.processes.length === 0) return [];
      const timers = this.#t('process_timers');
      const now = sql`${options.now.toISOString()}::timestamptz`;
      // SKIP LOCKED: rows another runner is claiming at this instant are left to it.
      const { rows } = await sql<TimerRow>`
        update ${timers} as t set claimed_by = ${options.owner},
          claimed_until = ${now} + ${Math.ceil(options.claimMs)}::integer * interval '1 millisecond'
        from (
          select process, key, name from ${timers}
          where process in (${sql.join(options.processes)}) and due_at <= ${now}
            and (claimed_by is null or claimed_until <= ${now})
          order by due_at
          limit ${options.limit}
          for update skip locked
        ) as due
        where t.process = due.process and t.key = due.key and t.name = due.name
        returning t.process, t.key, t.name, t.due_at, t.message, t.scheduled_by`.execute(this.#db());
      return rows.map(toTimer).sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
    });
  }

  async fired(timer: ProcessTimer): Promise<void> {
    return orUnavailable(`removing fired timer ${timer?.name}`, async () => {
      assertTimerRef(timer);
      assertStoreKey('timer scheduledBy', timer.scheduledBy);
      await sql`delete from ${this.#t('process_timers')}
        where process = ${timer.process} and key = ${timer.key} and name = ${timer.name}
          and scheduled_by = ${timer.scheduledBy}`.execute(this.#db());
    });
  }

  async pending(process: string, key?: string): Promise<readonly ProcessTimer[]> {
    return orUnavailable(`listing the timers of ${process}`, async () => {
      assertStoreKey('timer process', process);
      if (key !== undefined) assertStoreKey('timer key', key);
      const { rows } = await sql<TimerRow>`
        select process, key, name, due_at, message, scheduled_by from ${this.#t('process_timers')}
        where process = ${process} ${key === undefined ? sql`` : sql`and key = ${key}`}
        order by due_at, key, name`.execute(this.#db());
      return rows.map(toTimer);
    });
  }

  async #put(db: Kysely<any>, timer: ProcessTimer): Promise<void> {
    await sql`insert into ${this.#t('process_timers')} (process, key, name, due_at, message, scheduled_by)
      values (${timer.process}, ${timer.key}, ${timer.name}, ${timer.dueAt.toISOString()}::timestamptz,
        ${JSON.stringify(timer.message)}::jsonb, ${timer.scheduledBy})
      on conflict (process, key, name) do update set due_at = excluded.due_at, message = excluded.message,
        scheduled_by = excluded.scheduled_by, claimed_by = null, claimed_until = null`.execute(db);
  }

  #t(table: string) {
    return sql.id(this.#location.schema, table);
  }

  #db(): Kysely<any> {
    return this.#location.kysely.withoutPlugins();
  }
}

function toTimer(row: TimerRow): ProcessTimer {
  return Object.freeze({
    process: row.process,
    key: row.key,
    name: row.name,
    dueAt: new Date(row.due_at),
    message: row.message,
    scheduledBy: row.scheduled_by,
  });
}
