import type { ExpectedRevisionValue } from '@annals/core';
import type { Kysely } from 'kysely';
import type { LockKeys } from '../dcb/lock-keys.js';
import {
  type TagArrays,
  type TaggedAppendRow,
  taggedAppendStatement,
} from '../dcb/tagged-append-statement.js';
import type { AnnalsTables } from '../schema/tables.js';
import type { BatchArrays } from './append-function.js';
import { groupAppendStatement } from './group-append-function.js';

/** Most appends one group statement carries. */
export const MAX_GROUP_MEMBERS = 64;
/** Most events one group statement carries (a larger batch is sent on its own). */
export const MAX_GROUP_EVENTS = 4096;
/** Fewest appends per group when waiting appends are spread over the free slots. */
export const MIN_SPREAD_MEMBERS = 4;
/** Group statements in flight at once, each on its own connection; the next group forms meanwhile. */
export const MAX_GROUPS_IN_FLIGHT = 4;

/** One autocommit append waiting for its group: a stream, its expectation, its batch (no condition). */
export interface GroupMember {
  readonly streamId: string;
  readonly expected: ExpectedRevisionValue;
  readonly arrays: BatchArrays;
  readonly tags: TagArrays;
  readonly locks: LockKeys;
}

interface Waiting {
  readonly member: GroupMember;
  readonly resolve: (row: TaggedAppendRow | undefined) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit: autocommit appends issued while others are on their way are sent together, as one
 * `annals_append_group` statement (one round trip, one transaction, one commit). Each caller gets
 * its own row: none when its expected revision failed, which fails nobody else. When the group
 * statement fails (a duplicate event id, a lost connection), nothing of it was written and every
 * member runs again on its own statement, so each caller gets the outcome a lone append would.
 *
 * An append that finds nothing on its way is sent at once, alone (sequential appends wait for
 * nothing); otherwise it waits for the next turn of the event loop, so appends issued together share
 * a group. The waiting appends are spread over the free slots (at most {@link MAX_GROUPS_IN_FLIGHT}
 * groups in flight); when none is free, they wait for the next.
 */
export class GroupCommit {
  readonly #db: Kysely<AnnalsTables>;
  readonly #schema: string;
  readonly #waiting: Waiting[] = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(db: Kysely<AnnalsTables>, schema: string) {
    this.#db = db;
    this.#schema = schema;
  }

  /** True when `member` may share a group: no exclusive lock (a condition, or too many keys), not too large. */
  static accepts(member: GroupMember): boolean {
    return member.arrays.ids.length <= MAX_GROUP_EVENTS && !member.locks.exclusive.includes(true);
  }

  /** Runs `member` in the next group: its row, or undefined when nothing was written for it. */
  append(member: GroupMember): Promise<TaggedAppendRow | undefined> {
    return new Promise((resolve, reject) => {
      const waiting = { member, resolve, reject };
      if (this.#inFlight === 0 && this.#waiting.length === 0) {
        // Nothing on its way: no group to wait for, so a lone append pays no extra turn.
        this.#inFlight++;
        void this.#alone(waiting).finally(() => this.#done());
        return;
      }
      this.#waiting.push(waiting);
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // After the microtasks of this turn: callers released by the last group rejoin the next one.
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    while (this.#inFlight < MAX_GROUPS_IN_FLIGHT && this.#waiting.length > 0) {
      // Spread the waiting appends over the free slots (groups of at least MIN_SPREAD_MEMBERS): groups
      // run side by side on their own connections, so one slow backend does not hold every caller.
      const free = MAX_GROUPS_IN_FLIGHT - this.#inFlight;
      const group = this.#take(Math.max(MIN_SPREAD_MEMBERS, Math.ceil(this.#waiting.length / free)));
      this.#inFlight++;
      void this.#send(group).finally(() => this.#done());
    }
  }

  #done(): void {
    this.#inFlight--;
    if (this.#waiting.length > 0) this.#schedule();
  }

  /** The next group: waiting appends in arrival order, up to the member and event limits. */
  #take(members: number): Waiting[] {
    const most = Math.min(members, MAX_GROUP_MEMBERS);
    let events = 0;
    let count = 0;
    for (const waiting of this.#waiting) {
      events += waiting.member.arrays.ids.length;
      if (count > 0 && (count >= most || events > MAX_GROUP_EVENTS)) break;
      count++;
    }
    return this.#waiting.splice(0, count);
  }

  async #send(arrived: Waiting[]): Promise<void> {
    if (arrived.length === 1) return this.#alone(arrived[0]!);
    // Every group locks its streams' rows in the same order (by stream id, stable): two groups that
    // share streams wait for each other, never deadlock.
    const group = [...arrived].sort((a, b) => compare(a.member.streamId, b.member.streamId));
    let rows: Awaited<ReturnType<typeof this.runGroup>>;
    try {
      rows = await this.runGroup(group.map((w) => w.member));
    } catch {
      // Nothing of the group was written: each member on its own, with a lone append's outcome.
      await Promise.all(group.map((waiting) => this.#alone(waiting)));
      return;
    }
    for (const [i, waiting] of group.entries()) waiting.resolve(rows[i]);
  }

  async #alone(waiting: Waiting): Promise<void> {
    try {
      const { member } = waiting;
      const statement = taggedAppendStatement({
        schema: this.#schema,
        ...member,
        recordedAt: undefined,
        condition: undefined,
        after: undefined,
        channel: undefined,
      });
      waiting.resolve((await statement.execute(this.#db)).rows[0]);
    } catch (error) {
      waiting.reject(error);
    }
  }

  /** One group statement: per member, its row or undefined. */
  private async runGroup(members: readonly GroupMember[]): Promise<(TaggedAppendRow | undefined)[]> {
    const { rows } = await groupAppendStatement(this.#schema, members).execute(this.#db);
    const byMember: (TaggedAppendRow | undefined)[] = members.map(() => undefined);
    for (const row of rows) {
      byMember[row.member - 1] = {
        revision: row.revision,
        first_position: row.first_position,
        last_position: row.last_position,
        conflict: null,
      };
    }
    return byMember;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
