import { type AggregateClass, type EventStore, Repository, type StreamIdStrategy } from '@annals/core';

/** The state of an aggregate at one revision of its stream. */
export interface AggregateStateView {
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly revision: string;
  /** What `toSnapshot()` gives for the aggregate loaded up to that revision. */
  readonly state: unknown;
}

/** Loads the aggregates the console knows at a past revision, through their repositories. */
export class AggregateStates {
  readonly #repositories: readonly Repository<any>[];

  constructor(store: EventStore, aggregates: readonly AggregateClass<any>[], streamId?: StreamIdStrategy) {
    this.#repositories = aggregates.map(
      (aggregate) => new Repository(aggregate, { store, ...(streamId === undefined ? {} : { streamId }) }),
    );
  }

  /** The aggregate type whose stream `streamId` is, or undefined. */
  typeOf(streamId: string): string | undefined {
    return this.#match(streamId)?.repository.aggregateType;
  }

  /**
   * The state of the aggregate of `streamId` at `revision` (`Repository.loadAt`); undefined when no
   * configured aggregate owns the stream.
   */
  async at(streamId: string, revision: bigint): Promise<AggregateStateView | undefined> {
    const match = this.#match(streamId);
    if (match === undefined) return undefined;
    const aggregate = await match.repository.loadAt(match.id, { revision });
    return {
      aggregateType: match.repository.aggregateType,
      aggregateId: match.id,
      revision: revision.toString(),
      state: aggregate.toSnapshot(),
    };
  }

  #match(streamId: string): { repository: Repository<any>; id: string } | undefined {
    for (const repository of this.#repositories) {
      const id = repository.aggregateIdOf(streamId);
      if (id !== undefined) return { repository, id };
    }
    return undefined;
  }
}
