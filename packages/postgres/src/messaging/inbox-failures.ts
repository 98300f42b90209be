import { type Kysely, sql } from 'kysely';
import type { MessagingTables } from '../schema/messaging-schema.js';

/** A message an inbox gave up on after `maxAttempts` failed attempts (see `PostgresInbox`). */
export interface InboxDeadLetter {
  readonly messageId: string;
  /** Failed attempts, the last one included. */
  readonly attempts: number;
  /** The last attempt's error: its name, code when it has one, and message. */
  readonly error: string;
  readonly firstFailedAt: Date;
  readonly lastFailedAt: Date;
  readonly deadLetteredAt: Date;
}

/** `error` as one line for `inbox_failures.error`: `Name [CODE]: message`. */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return `${error.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${error.message}`;
}

/** Counts one failed attempt of `messageId`; resolves with the attempts counted so far. */
export async function countFailure(
  db: Kysely<MessagingTables>,
  consumer: string,
  messageId: string,
  error: string,
): Promise<number> {
  const row = await db
    .insertInto('inbox_failures')
    .values({ consumer, message_id: messageId, attempts: 1, error })
    .onConflict((oc) =>
      oc.columns(['consumer', 'message_id']).doUpdateSet((eb) => ({
        attempts: eb('inbox_failures.attempts', '+', 1),
        error: eb.ref('excluded.error'),
        last_failed_at: sql<Date>`now()`,
      })),
    )
    .returning('attempts')
    .executeTakeFirstOrThrow();
  return row.attempts;
}

/**
 * Gives up on `messageId`: records it as handled (later deliveries are skipped) and marks its failure
 * a dead letter. Run both in one transaction.
 */
export async function deadLetter(db: Kysely<MessagingTables>, consumer: string, messageId: string) {
  await db
    .insertInto('inbox_messages')
    .values({ consumer, message_id: messageId })
    .onConflict((oc) => oc.columns(['consumer', 'message_id']).doNothing())
    .execute();
  await db
    .updateTable('inbox_failures')
    .set({ dead_lettered_at: sql<Date>`now()` })
    .where('consumer', '=', consumer)
    .where('message_id', '=', messageId)
    .execute();
}

/** The consumer's dead letters, oldest first. */
export async function listDeadLetters(
  db: Kysely<MessagingTables>,
  consumer: string,
): Promise<InboxDeadLetter[]> {
  const rows = await db
    .selectFrom('inbox_failures')
    .select(['message_id', 'attempts', 'error', 'first_failed_at', 'last_failed_at', 'dead_lettered_at'])
    .where('consumer', '=', consumer)
    .where('dead_lettered_at', 'is not', null)
    .orderBy('dead_lettered_at')
    .orderBy('message_id')
    .execute();
  return rows.map((r) =>
    Object.freeze({
      messageId: r.message_id,
      attempts: r.attempts,
      error: r.error,
      firstFailedAt: new Date(r.first_failed_at),
      lastFailedAt: new Date(r.last_failed_at),
      deadLetteredAt: new Date(r.dead_lettered_at!),
    }),
  );
}

/**
 * Removes the dead letter of `messageId` and its record as handled, so its next delivery runs the
 * effects again; true when there was one. Run both in one transaction.
 */
export async function releaseDeadLetter(
  db: Kysely<MessagingTables>,
  consumer: string,
  messageId: string,
): Promise<boolean> {
  const released = await db
    .deleteFrom('inbox_failures')
    .where('consumer', '=', consumer)
    .where('message_id', '=', messageId)
    .where('dead_lettered_at', 'is not', null)
    .returning('message_id')
    .executeTakeFirst();
  if (released === undefined) return false;
  await db
    .deleteFrom('inbox_messages')
    .where('consumer', '=', consumer)
    .where('message_id', '=', messageId)
    .execute();
  return true;
}
