import {
  type ResolvedAggregateDefinition,
  resolveAggregateDefinition,
} from '../aggregate/aggregate-metadata.js';
import { type AggregateRoot, aggregateInternals } from '../aggregate/aggregate-root.js';
import { currentCommandContext } from '../context/command-context.js';
import { currentStoreTransaction } from '../context/store-transaction.js';
import { hasErrorCode } from '../errors/annals-error.js';
import { InvalidArgument } from '../errors/store-errors.js';
import type { NewEvent } from '../events/event-types.js';
import { withMetadata } from '../events/validated-event.js';
import { noteSavedAggregate } from '../observability/command-telemetry.js';
import { SnapshotSeal } from '../personal-data/snapshot-seal.js';
import type { Snapshot } from '../snapshot/snapshot-store.js';
import type { AppendOptions, AppendResult, EventStore, ReadStreamOptions } from '../store/event-store.js';
import { toBigIntOption } from '../store/expected-revision.js';
import { readStreamSync } from '../store/in-memory-event-store.js';
import { appendRetryingUnavailable } from './append-retrying-unavailable.js';
import { AggregateNotFound } from './repository-errors.js';
import type { AggregateClass, LoadAtTarget, RepositoryOptions, SaveOptions } from './repository-options.js';
import { stampOf } from './save-metadata.js';
import { type SnapshotPolicy, toPolicy } from './snapshot-policy.js';
import { aggregateIdFor, defaultStreamId, type StreamIdStrategy, streamIdFor } from './stream-id.js';

export type { AggregateClass, LoadAtTarget, RepositoryOptions, SaveOptions } from './repository-options.js';

/**
 * Loads and saves one aggregate type from an {@link EventStore}.
 *
 * - `load` replays the aggregate's stream (from the latest fitting snapshot when snapshots are on);
 * - `save` appends the uncommitted events with the loaded revision as expected revision, so a
 *   concurrent change raises `ConcurrencyConflict` and writes nothing;
 * - `loadAt` rebuilds a past state (by revision or by time), read-only.
 *
 * @example
 * ```ts
 * const accounts = new Repository(BankAccount, { store, snapshots: { every: 100 } });
 * const account = await accounts.load('acc-1');
 * account.deposit(100);
 * await accounts.save(account);
 * ```
 */
export class Repository<T extends AggregateRoot> {
  /** The aggregate type name from `@Aggregate`. */
  readonly aggregateType: string;
  readonly #aggregate: AggregateClass<T>;
  readonly #definition: ResolvedAggregateDefinition;
  readonly #store: EventStore;
  /** Seals snapshots of aggregates holding personal data, when the store seals it. */
  readonly #seal: SnapshotSeal | undefined;
  readonly #streamId: StreamIdStrategy;
  readonly #snapshots: SnapshotPolicy | undefined;
  /** Revision of the snapshot each loaded or saved instance is known to be covered by (-1n: none). */
  readonly #snapshotBase = new WeakMap<AggregateRoot, bigint>();

  constructor(aggregate: AggregateClass<T>, options: RepositoryOptions) {
    this.#definition = resolveAggregateDefinition(aggregate);
    this.#aggregate = aggregate;
    this.aggregateType = this.#definition.type;
    if (typeof options?.store?.readStream !== 'function' || typeof options.store.append !== 'function') {
      throw new InvalidArgument(
        `Repository<${this.aggregateType}> expects options.store to be an EventStore, found ${String(options?.store)}.`,
      );
    }
    this.#store = options.store;
    this.#seal = SnapshotSeal.of(options.store);
    this.#streamId = options.streamId ?? defaultStreamId;
    this.#snapshots =
      options.snapshots === undefined ? undefined : toPolicy(this.aggregateType, options.snapshots);
  }

  /** The stream id of the aggregate `id` (by default `${aggregateType}-${id}`). */
  streamIdOf(id: string): string {
    return streamIdFor(this.#streamId, this.aggregateType, id);
  }

  /**
   * The aggregate id whose stream is `streamId`, or undefined when the stream is not one of this
   * repository's: the inverse of {@link Repository.streamIdOf} for a strategy that puts a fixed
   * prefix before the id, as the default one does (`BankAccount-acc-1` gives `acc-1`). A strategy
   * that transforms the id (hashes it, say) has no inverse here: undefined.
   *
   * @example
   * ```ts
   * accounts.aggregateIdOf('BankAccount-acc-1'); // 'acc-1'
   * accounts.aggregateIdOf('Transfer-t-1'); // undefined
   * ```
   */
  aggregateIdOf(streamId: string): string | undefined {
    return aggregateIdFor(this.#streamId, this.aggregateType, streamId);
  }

  /**
   * Loads the current state of aggregate `id`. Throws {@link AggregateNotFound} when its stream does
   * not exist. With snapshots on, starts from the latest snapshot of the current shape and replays
   * the events after it; a snapshot of another shape version is ignored and a new one is taken.
   */
  async load(id: string): Promise<T> {
    const streamId = this.streamIdOf(id);
    // Inside a store transaction snapshots are neither read nor taken (see save).
    const policy = this.#joinedTransaction() === undefined ? this.#snapshots : undefined;
    let aggregate = this.#create(id);
    let base = -1n;
    let stale = false;
    if (policy !== undefined) {
      const snapshot = await this.#loadSnapshot(policy, streamId, aggregate);
      if (snapshot !== undefined && this.#fits(snapshot)) {
        try {
          aggregateInternals.restore(aggregate, snapshot.state, snapshot.revision);
          base = snapshot.revision;
        } catch (error) {
          policy.onError(error, { streamId, operation: 'load' });
          aggregate = this.#create(id);
          stale = true;
        }
      } else if (snapshot !== undefined) {
        stale = true;
      }
    }
    const applied = await this.#replay(aggregate, streamId, { fromRevision: base + 1n });
    if (policy !== undefined) {
      this.#snapshotBase.set(aggregate, base);
      if (stale || BigInt(applied) >= policy.every) await this.#takeSnapshot(policy, aggregate, streamId);
    }
    return aggregate;
  }

  /**
   * Loads aggregate `id` as it was at a stream revision (inclusive) or at a moment (every event
   * recorded at or before `at`, by each event's `recordedAt`; replay stops at the first later event).
   * The result is read-only: `save` refuses it. Throws {@link AggregateNotFound} when the aggregate
   * did not exist yet, and `InvalidArgument` for a revision the stream has not reached.
   *
   * @example
   * ```ts
   * const asOpened = await accounts.loadAt('acc-1', { revision: 0 });
   * const lastYear = await accounts.loadAt('acc-1', { at: new Date('2024-12-31T23:59:59Z') });
   * ```
   */
  async loadAt(id: string, target: LoadAtTarget): Promise<T> {
    const streamId = this.streamIdOf(id);
    let aggregate = this.#create(id);
    if (typeof target === 'object' && target !== null && 'revision' in target) {
      const revision = toBigIntOption(
        `loadAt on Repository<${this.aggregateType}>: revision`,
        target.revision,
      )!;
      let from = 0n;
      const policy = this.#joinedTransaction() === undefined ? this.#snapshots : undefined;
      const snapshot =
        policy === undefined ? undefined : await this.#loadSnapshot(policy, streamId, aggregate);
      if (snapshot !== undefined && this.#fits(snapshot) && snapshot.revision <= revision) {
        try {
          aggregateInternals.restore(aggregate, snapshot.state, snapshot.revision);
          from = snapshot.revision + 1n;
        } catch (error) {
          policy!.onError(error, { streamId, operation: 'load' });
          aggregate = this.#create(id);
        }
      }
      if (from <= revision) {
        await this.#replay(aggregate, streamId, {
          fromRevision: from,
          maxCount: Number(revision - from + 1n),
        });
      }
      if (aggregate.revision !== revision) {
        throw new InvalidArgument(
          `${this.aggregateType} ${id} has no revision ${revision}: stream ${streamId} ends at revision ${String(aggregate.revision)}.`,
        );
      }
    } else if (typeof target === 'object' && target !== null && 'at' in target) {
      const at = target.at;
      if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
        throw new InvalidArgument(
          `loadAt(${JSON.stringify(id)}, { at }) expects a valid Date, found ${String(at)}.`,
        );
      }
      const applied = await this.#replay(aggregate, streamId, { fromRevision: 0n, until: at });
      if (applied === 0) {
        throw new AggregateNotFound(
          this.aggregateType,
          id,
          streamId,
          `has no event recorded at or before ${at.toISOString()}`,
        );
      }
    } else {
      throw new InvalidArgument(
        `loadAt(${JSON.stringify(id)}, target) expects { revision } or { at: Date }, found ${String(target)}.`,
      );
    }
    aggregateInternals.markHistorical(aggregate);
    return aggregate;
  }

  /** True when aggregate `id` has at least one stored event. */
  async exists(id: string): Promise<boolean> {
    const streamId = this.streamIdOf(id);
    const transaction = this.#joinedTransaction();
    const options = transaction === undefined ? { maxCount: 1 } : { maxCount: 1, transaction };
    try {
      for await (const _ of this.#store.readStream(streamId, options)) return true;
      return false;
    } catch (error) {
      if (hasErrorCode(error, 'STREAM_NOT_FOUND')) return false;
      throw error;
    }
  }

  /**
   * Appends the aggregate's uncommitted events, expecting the stream to be at the revision the
   * aggregate was loaded at (`'no_stream'` for a new one). On success the events are committed on
   * the instance, which can go on being used; on `ConcurrencyConflict` nothing is written and the
   * instance is stale: load it again. Events carry the correlation and causation ids of the command
   * executing this call (see `CommandBus`), or those in `options`. Returns undefined when there was
   * nothing to save.
   *
   * When the store answers `StoreUnavailable` (the connection died, perhaps after the commit), the
   * same events are appended again with the same ids, up to 5 attempts over about 1.5 s: a batch that
   * had committed returns its first result, so nothing is saved twice. After that the
   * `StoreUnavailable` reaches the caller and the instance stays uncommitted; saving it again later is
   * just as safe.
   */
  async save(aggregate: T, options: SaveOptions = {}): Promise<AppendResult | undefined> {
    if (typeof aggregate !== 'object' || aggregate === null || aggregate.constructor !== this.#aggregate) {
      throw new InvalidArgument(
        `Repository<${this.aggregateType}> saves ${this.#aggregate.name} instances, found ${
          (aggregate as object | null)?.constructor?.name ?? String(aggregate)
        }.`,
      );
    }
    if (aggregateInternals.isHistorical(aggregate)) {
      throw new InvalidArgument(
        `${this.aggregateType} ${aggregate.id} was loaded with loadAt, a past state, and cannot be saved; load it with load() to change it.`,
      );
    }
    const pending = aggregateInternals.uncommitted(aggregate);
    if (pending.length === 0) return undefined;
    const streamId = this.streamIdOf(aggregate.id);
    const metadata = stampOf(options);
    const events: NewEvent[] =
      metadata === undefined
        ? [...pending]
        : pending.map((e) =>
            withMetadata(e, e.metadata === undefined ? metadata : { ...metadata, ...e.metadata }),
          );
    noteSavedAggregate(currentCommandContext(), this.aggregateType, streamId);
    for (const event of pending) this.#seal?.track(aggregate, event);
    const transaction = this.#joinedTransaction();
    // In a store transaction the append commits with it (no retry: a lost connection ends the
    // transaction, which its owner runs again). Otherwise, on a connection that died (perhaps at
    // the commit): the same events again, with the same ids.
    const result =
      transaction === undefined
        ? await appendRetryingUnavailable(this.#store, streamId, events, {
            expectedRevision: aggregate.revision,
            ...(options.condition === undefined ? {} : { condition: options.condition }),
          })
        : await this.#store.append(streamId, events, {
            expectedRevision: aggregate.revision,
            transaction,
            ...(options.condition === undefined ? {} : { condition: options.condition }),
          } as AppendOptions);
    aggregateInternals.markCommitted(aggregate, result.nextExpectedRevision);
    // Snapshots are written outside any transaction (on PGlite, its one connection is the
    // transaction's until the commit), so none is taken inside one.
    const policy = transaction === undefined ? this.#snapshots : undefined;
    if (policy !== undefined) {
      const base = this.#snapshotBase.get(aggregate) ?? -1n;
      if (result.nextExpectedRevision - base >= policy.every)
        await this.#takeSnapshot(policy, aggregate, streamId);
    }
    return result;
  }

  /**
   * The transaction of the current store transaction scope (see `runInStoreTransaction`), when it
   * belongs to this repository's store; a scope of another store is refused, since the events would
   * not commit with it.
   */
  #joinedTransaction(): unknown {
    const scope = currentStoreTransaction();
    if (scope === undefined) return undefined;
    if (scope.store !== this.#store) {
      throw new InvalidArgument(
        `Repository<${this.aggregateType}> runs inside a transaction of another event store than its own; its events would not commit with that transaction. Give the repository the store whose transaction the command runs in.`,
      );
    }
    return scope.transaction;
  }

  #create(id: string): T {
    return new this.#aggregate(id);
  }

  #fits(snapshot: Snapshot): boolean {
    return (
      snapshot.aggregateType === this.aggregateType &&
      snapshot.snapshotVersion === this.#definition.snapshotVersion &&
      typeof snapshot.revision === 'bigint' &&
      snapshot.revision >= 0n
    );
  }

  async #replay(
    aggregate: T,
    streamId: string,
    range: { fromRevision: bigint; maxCount?: number; until?: Date },
  ): Promise<number> {
    let applied = 0;
    const transaction = this.#joinedTransaction();
    const options: ReadStreamOptions & { transaction?: unknown } =
      range.maxCount === undefined
        ? { fromRevision: range.fromRevision }
        : { fromRevision: range.fromRevision, maxCount: range.maxCount };
    if (transaction !== undefined) options.transaction = transaction;
    try {
      // The in-memory store hands its events over without an async step per event.
      const events = readStreamSync(this.#store, streamId, options);
      if (events !== undefined) {
        for (const event of events) {
          if (range.until !== undefined && event.recordedAt > range.until) break;
          aggregateInternals.applyRecorded(aggregate, event);
          this.#seal?.track(aggregate, event);
          applied++;
        }
      } else {
        for await (const event of this.#store.readStream(streamId, options)) {
          if (range.until !== undefined && event.recordedAt > range.until) break;
          aggregateInternals.applyRecorded(aggregate, event);
          this.#seal?.track(aggregate, event);
          applied++;
        }
      }
    } catch (error) {
      if (hasErrorCode(error, 'STREAM_NOT_FOUND')) {
        throw new AggregateNotFound(this.aggregateType, aggregate.id, streamId);
      }
      throw error;
    }
    return applied;
  }

  async #loadSnapshot(policy: SnapshotPolicy, streamId: string, aggregate: T): Promise<Snapshot | undefined> {
    try {
      const snapshot = await policy.store.load(streamId);
      return snapshot === undefined || this.#seal === undefined
        ? snapshot
        : this.#seal.open(aggregate, snapshot);
    } catch (error) {
      policy.onError(error, { streamId, operation: 'load' });
      return undefined;
    }
  }

  async #takeSnapshot(policy: SnapshotPolicy, aggregate: T, streamId: string): Promise<void> {
    const revision = aggregate.revision;
    if (revision === 'no_stream') return;
    try {
      const snapshot: Snapshot = {
        streamId,
        aggregateType: this.aggregateType,
        snapshotVersion: this.#definition.snapshotVersion,
        revision,
        state: aggregate.toSnapshot(),
        takenAt: new Date(),
      };
      const sealed = this.#seal === undefined ? snapshot : await this.#seal.seal(aggregate, snapshot);
      if (sealed !== undefined) await policy.store.save(sealed);
      this.#snapshotBase.set(aggregate, revision);
    } catch (error) {
      policy.onError(error, { streamId, operation: 'save' });
    }
  }
}
