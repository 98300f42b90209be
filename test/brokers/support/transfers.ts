import { randomUUID } from 'node:crypto';
import type { PostgresEventStore } from '@annals/postgres';
import { AccountOpened, TransferStarted } from '../../../examples/bank-account/src/domain/index.js';

/** A short name no other test (or run) uses, for subjects, streams, queues and stream ids. */
export function uniqueTag(): string {
  return `t${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

/** What the outbox must publish for one appended TransferStarted. */
export interface ExpectedMessage {
  readonly id: string;
  readonly streamId: string;
  readonly payload: Record<string, unknown>;
}

/**
 * Appends `perStream` TransferStarted events to each of `streams` streams `Transfer-<tag>-<s>`
 * (transfer ids `<tag>-<s>-<j>`, amounts j + 1), interleaved across the streams, plus an
 * AccountOpened in `BankAccount-<tag>` that no transfer outbox publishes. Returns what the outbox
 * must publish, in log order.
 */
export async function appendTransfers(
  store: PostgresEventStore,
  tag: string,
  streams: number,
  perStream: number,
  from = 0,
): Promise<ExpectedMessage[]> {
  const expected: ExpectedMessage[] = [];
  await store.append(`BankAccount-${tag}-${from}`, [
    AccountOpened.create({
      accountId: `${tag}-${from}`,
      owner: 'not published',
      currency: 'EUR',
      overdraftLimit: 0,
    }),
  ]);
  for (let j = from; j < from + perStream; j++) {
    for (let s = 0; s < streams; s++) {
      const streamId = `Transfer-${tag}-${s}`;
      const transferId = `${tag}-${s}-${j}`;
      const id = randomUUID();
      await store.append(streamId, [
        {
          ...TransferStarted.create({
            transferId,
            from: `a-${s}`,
            to: `b-${s}`,
            amount: { value: j + 1, currency: 'EUR' },
          }),
          id,
        },
      ]);
      expected.push({
        id,
        streamId,
        payload: { transferId, from: `a-${s}`, to: `b-${s}`, amountCents: j + 1, currency: 'EUR' },
      });
    }
  }
  return expected;
}

/** The transfer ids of `messages` per stream, in the order given. */
export function orderPerStream(
  messages: readonly { readonly streamId: string; readonly payload: Record<string, unknown> }[],
): Record<string, string[]> {
  const streams: Record<string, string[]> = {};
  for (const m of messages) (streams[m.streamId] ??= []).push(String(m.payload.transferId));
  return streams;
}
