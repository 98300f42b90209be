import type { AppendCondition, EventRegistry } from '@annals/core';
import { type CheckedCondition, checkAppendCondition, type PreparedEvent } from '@annals/core/adapter';
import { sqlState } from '../store/database-errors.js';
import { conditionJson, type LockKeys, lockKeys, type TaggedEvent } from './lock-keys.js';
import { type TagArrays, toTagArrays } from './tagged-append-statement.js';

/** What the tagged append statement takes beyond an untagged append's arguments. */
export interface DcbArgs {
  readonly tags: TagArrays;
  readonly locks: LockKeys;
  /** The condition's query as the function reads it (JSON), or undefined. */
  readonly condition: string | undefined;
  readonly after: bigint | undefined;
  /** The checked condition, for the error that names it. */
  readonly checked: CheckedCondition | undefined;
}

/** The tags, lock keys and condition of one append (`lockEvents`: whose keys to lock; default the batch). */
export function dcbArgs(
  registry: EventRegistry,
  batch: readonly PreparedEvent[],
  condition: AppendCondition | CheckedCondition | undefined,
  lockEvents: readonly TaggedEvent[] = batch,
): DcbArgs {
  const checked =
    condition === undefined || 'query' in condition ? condition : checkAppendCondition(condition);
  return {
    tags: toTagArrays(batch),
    locks: lockKeys(registry, lockEvents, checked),
    condition: checked === undefined ? undefined : conditionJson(registry, checked),
    after: checked?.after,
    checked,
  };
}

/** True for the function's refusal of a condition outside READ COMMITTED. */
export function isConditionIsolationError(error: unknown): boolean {
  return (
    sqlState(error) === '55000' &&
    String((error as { message?: unknown }).message).includes('an append condition needs READ COMMITTED')
  );
}
