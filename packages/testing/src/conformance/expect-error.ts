import {
  type AnnalsError,
  type AnnalsErrorCode,
  type ConcurrencyConflict,
  type ExpectedRevisionValue,
  hasErrorCode,
  isAnnalsError,
  isConcurrencyConflict,
  type Subscription,
} from '@annals/core';
import { expect } from 'vitest';
import { deliveryTimeout, withTimeout } from './collect.js';
import type { ConformanceContext } from './conformance-types.js';

/**
 * Runs `action` and returns what it threw, whether it threw synchronously or returned a rejected
 * promise; fails when it completes. Lets a case accept either way of failing (a store may throw from
 * `subscribeToAll()` itself or from the first read).
 */
export async function captureError(action: () => unknown): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('Expected the action to fail, but it completed.');
}

/**
 * Runs `action` and asserts it fails with an Annals error of the given `code` (recognised by code,
 * so a second installed copy of `@annals/core` also matches). Returns the error for further checks.
 *
 * @example
 * ```ts
 * const error = await expectAnnalsError(() => toArray(store.readStream('nope')), 'STREAM_NOT_FOUND');
 * ```
 */
export async function expectAnnalsError<C extends AnnalsErrorCode>(
  action: () => unknown,
  code: C,
): Promise<AnnalsError & { code: C }> {
  let error: unknown;
  try {
    await action();
  } catch (thrown) {
    error = thrown;
  }
  if (error === undefined)
    throw new Error(`Expected the call to fail with an Annals error ${code}, but it completed.`);
  if (!hasErrorCode(error, code)) {
    const found = isAnnalsError(error)
      ? `${error.name} (${error.code}): ${error.message}`
      : error instanceof Error
        ? `${error.name}: ${error.message}`
        : String(error);
    throw new Error(`Expected an Annals error with code ${code}, found ${found}`, { cause: error });
  }
  return error;
}

/**
 * Runs `action` and asserts it fails with a {@link ConcurrencyConflict} (recognised by
 * `isConcurrencyConflict`) for `streamId` with the given `expected` and `actual` revisions, whose
 * message names all three.
 */
export async function expectConcurrencyConflict(
  action: () => unknown,
  conflict: {
    readonly streamId: string;
    readonly expected: ExpectedRevisionValue;
    readonly actual: bigint | 'no_stream';
  },
): Promise<ConcurrencyConflict> {
  const error = await expectAnnalsError(action, 'CONCURRENCY_CONFLICT');
  if (!isConcurrencyConflict(error)) throw new Error('isConcurrencyConflict does not recognise the error.');
  expect(error).toBeInstanceOf(Error);
  expect({ streamId: error.streamId, expected: error.expected, actual: error.actual }).toEqual(conflict);
  expect(error.message).toContain(conflict.streamId);
  for (const revision of [conflict.expected, conflict.actual]) {
    if (typeof revision === 'bigint') expect(error.message).toContain(String(revision));
  }
  return error;
}

/**
 * Opens a subscription and asserts that it fails with an Annals error of the given `code`, whether
 * the store throws from the call that opens it or from the first read. A subscription that delivers
 * an event instead fails the case, and so does one that stays silent for the delivery timeout.
 *
 * @example
 * ```ts
 * await expectRefusedSubscription(() => store.subscribeToStream(''), 'INVALID_ARGUMENT', ctx);
 * ```
 */
export function expectRefusedSubscription<C extends AnnalsErrorCode>(
  open: () => Subscription,
  code: C,
  context: Pick<ConformanceContext, 'deliveryTimeoutMs'>,
): Promise<AnnalsError & { code: C }> {
  return expectAnnalsError(async () => {
    const subscription = open();
    try {
      const first = (async () => {
        for await (const _ of subscription) return;
      })();
      await withTimeout(first, deliveryTimeout(context), 'a refusal of the subscription');
    } finally {
      await subscription.stop();
    }
  }, code);
}
