/**
 * `@annals/core/adapter`: the kit for writing an event store adapter. Extend {@link EventStoreBase}
 * (the port plus `publish`/`subscribe`), serve subscriptions with {@link PullSubscription} woken by a
 * {@link ChangeNotifier}, validate arguments (of event, checkpoint, lease and dead-letter stores) with
 * the same checks and messages as the shipped stores, prepare events with the `EventRegistry` the
 * store is given, and wrap `append` in {@link traceAppend} (spans, metrics and trace context, like the
 * shipped stores). Prove the result with
 * `runEventStoreConformance` from `@annals/testing`.
 *
 * @packageDocumentation
 */

export {
  type CheckedCondition,
  checkAppendCondition,
  checkStreamWrites,
} from '../dcb/append-condition.js';
export { toStreamsResult } from '../dcb/streams-result.js';
export { assertTag, compareText } from '../dcb/tags.js';
export { deepFreeze } from '../events/deep-freeze.js';
export type { DecodeOptions } from '../events/event-decoding.js';
export type { PreparedEvent, PrepareOptions } from '../events/event-preparation.js';
export type { StoredEvent } from '../events/event-types.js';
export { containsNul } from '../events/json-text.js';
export { assertStreamId } from '../events/stream-id-check.js';
export { traceAppend, traceAppendToStreams } from '../observability/append-telemetry.js';
export { withoutTraceContext } from '../observability/trace-context.js';
export { withDefaultKeys } from '../personal-data/default-keys.js';
export { assertClaimDueOptions, assertProcessTimer, assertTimerRef } from '../process/process-store.js';
export { assertCheckpointArgs, assertCheckpointKey } from '../projection/checkpoint-store.js';
export {
  assertDeadLetter,
  assertDeadLetterId,
  assertDeadLetterProjection,
} from '../projection/dead-letter-store.js';
export {
  assertLeaseArgs,
  assertLeaseKeyAndOwner,
  assertLeasePrefix,
} from '../projection/lease-store.js';
export { assertPausedName } from '../projection/projection-control.js';
export { ChangeNotifier } from '../store/change-notifier.js';
export { DEFAULT_DRAIN_TIMEOUT_MS, drainSubscriptions, drainTimeoutOf } from '../store/close-options.js';
export { defaultCapabilities } from '../store/event-store.js';
export { EventStoreBase, type EventStoreBaseOptions } from '../store/event-store-base.js';
export {
  assertEventFilter,
  assertExpectedRevision,
  expectedRevisionHolds,
  normalizeExpectedRevision,
  toBigIntOption,
  toMaxCount,
} from '../store/expected-revision.js';
export { importedRecordedAt, MAX_RECORDED_AT_SKEW_MS } from '../store/imported-recorded-at.js';
export {
  MAX_KEY_BYTES,
  MAX_POSITION,
  MAX_PROJECTION_NAME_LENGTH,
  MAX_REVISION,
  MAX_STREAM_ID_BYTES,
} from '../store/limits.js';
export { assertStoreKey, type StoreKeyOptions, storeKeyProblem } from '../store/store-key.js';
export {
  type PullPage,
  type PullReadOptions,
  type PullSource,
  PullSubscription,
} from '../store/subscription.js';
export { TenantHandles } from '../store/tenants.js';
