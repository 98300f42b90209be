import type { Kysely } from 'kysely';
import { type ChainedEventRow, chainHash } from './chain-hash.js';
import type { ChainBreak, ChainVerification } from './chain-report.js';
import { type ChainRow, readChainRows, readEventsAfter } from './chain-rows.js';

/** A checkpoint to check during a walk: its signature already checked (`signed`). */
export interface WalkCheckpoint {
  readonly position: bigint;
  readonly hash: string;
  readonly keyId: string;
  readonly signed: boolean;
}

/** Where a walk starts, stops, and what it checks. */
export interface WalkPlan {
  readonly db: Kysely<any>;
  readonly schema: string;
  /** Events read per query. */
  readonly batchSize: number;
  /** Start after this position with this hash (a checkpoint that held); from the first event if undefined. */
  readonly start?: { readonly position: bigint; readonly hash: string };
  /** The chain's head when the walk began: an event at or below it must have a chain row. */
  readonly chainHead: bigint | undefined;
  /** Stop after this position (`checkpointChain` walks up to the head only). */
  readonly stopAt?: bigint;
  /** Checkpoints in position order, all after `start`. */
  readonly checkpoints: readonly WalkCheckpoint[];
}

/**
 * Recomputes the chain from the events themselves, in position order, below the horizon, and
 * compares it with the chain rows and the checkpoints; stops at the first break. The chain rows are
 * never trusted for the previous hash: each event's hash is recomputed from the one before.
 */
export async function walkChain(plan: WalkPlan): Promise<ChainVerification> {
  const { db, schema, batchSize, chainHead, stopAt, checkpoints } = plan;
  let previousHash = plan.start?.hash ?? '0'.repeat(64);
  let previousPosition = plan.start?.position;
  let lastSigned = plan.start?.position;
  let cursor = plan.start?.position ?? -1n;
  let head: ChainVerification['head'];
  let next = 0; // index of the next checkpoint
  const counts = { events: 0, sealed: 0, unsealed: 0, checkpoints: 0 };
  const report = (broken?: ChainBreak): ChainVerification => ({
    intact: broken === undefined,
    ...(broken === undefined ? {} : { broken }),
    ...counts,
    ...(lastSigned === undefined || lastSigned === plan.start?.position ? {} : { signedUpTo: lastSigned }),
    ...(head === undefined ? {} : { head }),
  });
  for (;;) {
    const events = await readEventsAfter(db, schema, cursor, batchSize, true);
    const full = events.length === batchSize;
    // The chain rows of these events; on the last page, every row up to the head seen at the start
    // (rows sealed later belong to events above this read's horizon).
    const upTo = full ? BigInt(events.at(-1)!.position) : chainHead;
    const rows = upTo === undefined || upTo <= cursor ? [] : await readChainRows(db, schema, cursor, upTo);
    let r = 0;
    for (const event of events) {
      const position = BigInt(event.position);
      if (stopAt !== undefined && position > stopAt) return finish(rows, r);
      // Chain rows and checkpoints before this event name events that are gone.
      if (r < rows.length && BigInt(rows[r]!.position) < position) return report(missingRow(rows[r]!));
      const before = checkpointBefore(position);
      if (before !== undefined) return report(before);
      const hash = chainHash(previousHash, event);
      const row = r < rows.length && BigInt(rows[r]!.position) === position ? rows[r++] : undefined;
      if (row !== undefined) {
        const broken = checkRow(row, event, hash, previousPosition);
        if (broken !== undefined) return report(broken);
        counts.sealed++;
        head = { position, hash };
      } else if (chainHead !== undefined && position <= chainHead) {
        return report(
          at(
            'unchained',
            event,
            'has no chain row though later events are sealed: it was inserted, or its chain row removed',
          ),
        );
      } else {
        counts.unsealed++;
      }
      for (; next < checkpoints.length && checkpoints[next]!.position === position; next++) {
        const broken = checkCheckpoint(checkpoints[next]!, event, hash);
        if (broken !== undefined) return report(broken);
        counts.checkpoints++;
        lastSigned = position;
      }
      counts.events++;
      previousHash = hash;
      previousPosition = position;
    }
    if (events.length > 0) cursor = BigInt(events.at(-1)!.position);
    if (!full) return finish(rows, r);
  }

  /** Past the last event: chain rows or checkpoints left name events that are gone. */
  function finish(rows: readonly ChainRow[], index: number): ChainVerification {
    const row = rows[index];
    if (row !== undefined && (stopAt === undefined || BigInt(row.position) <= stopAt)) {
      return report(missingRow(row));
    }
    return report(checkpointBefore(stopAt === undefined ? undefined : stopAt + 1n));
  }

  /** A break for the first checkpoint below `position` (any left when undefined), if there is one. */
  function checkpointBefore(position: bigint | undefined): ChainBreak | undefined {
    const checkpoint = checkpoints[next];
    if (checkpoint === undefined || (position !== undefined && checkpoint.position >= position)) return;
    if (!checkpoint.signed) return forged(checkpoint);
    return {
      reason: 'missing',
      position: checkpoint.position,
      message: `The checkpoint at position ${checkpoint.position} covers an event that is no longer in the log: it was deleted.`,
    };
  }

  function checkCheckpoint(checkpoint: WalkCheckpoint, event: ChainedEventRow, hash: string) {
    if (!checkpoint.signed) return forged(checkpoint);
    if (checkpoint.hash === hash) return undefined;
    const range = lastSigned === undefined ? 'at or before it' : `after position ${lastSigned} and up to it`;
    return {
      ...at(
        'checkpoint',
        event,
        `does not match the signed checkpoint at its position: an event ${range} was rewritten and the chain recomputed`,
      ),
      ...(lastSigned === undefined ? {} : { after: lastSigned }),
    };
  }
}

function forged(checkpoint: WalkCheckpoint): ChainBreak {
  return {
    reason: 'signature',
    position: checkpoint.position,
    message: `The checkpoint at position ${checkpoint.position} (key ${checkpoint.keyId}) has no valid signature under the public keys given: it was forged, or signed by another key.`,
  };
}

function checkRow(
  row: ChainRow,
  event: ChainedEventRow,
  hash: string,
  previousPosition: bigint | undefined,
): ChainBreak | undefined {
  const recorded = row.previous_position === null ? undefined : BigInt(row.previous_position);
  if (recorded !== undefined && (previousPosition === undefined || recorded > previousPosition)) {
    return {
      reason: 'missing',
      position: recorded,
      message: `The event at position ${recorded}, sealed before the one at position ${event.position}, is no longer in the log: it was deleted with its chain row.`,
    };
  }
  if (row.hash === hash && row.stream_id === event.stream_id && row.revision === event.revision) {
    return recorded === previousPosition
      ? undefined
      : at(
          'unchained',
          event,
          `follows position ${previousPosition}, which its chain row does not name: an event was inserted before it`,
        );
  }
  return at(
    'altered',
    event,
    'does not hash to its sealed hash: its stored bytes, or its chain row, were changed',
  );
}

function missingRow(row: ChainRow): ChainBreak {
  return {
    reason: 'missing',
    position: BigInt(row.position),
    streamId: row.stream_id,
    revision: BigInt(row.revision),
    message: `The event at position ${row.position} (stream ${row.stream_id}, revision ${row.revision}) was sealed but is no longer in the log: it was deleted.`,
  };
}

function at(reason: ChainBreak['reason'], event: ChainedEventRow, what: string): ChainBreak {
  return {
    reason,
    position: BigInt(event.position),
    streamId: event.stream_id,
    revision: BigInt(event.revision),
    message: `The event at position ${event.position} (stream ${event.stream_id}, revision ${event.revision}) ${what}.`,
  };
}
