import { InvalidArgument } from '../errors/store-errors.js';

/**
 * Derives the stream id of an aggregate from its type and id. Every part of Annals that needs an
 * aggregate's stream (repositories, test kits, `Repositories`) asks the repository, which uses one
 * strategy, so the id is derived one way everywhere.
 */
export type StreamIdStrategy = (aggregateType: string, aggregateId: string) => string;

/** The default strategy: `${aggregateType}-${aggregateId}`, e.g. `BankAccount-acc-1`. */
export const defaultStreamId: StreamIdStrategy = (aggregateType, aggregateId) =>
  `${aggregateType}-${aggregateId}`;

/** The stream id `strategy` gives aggregate `id` of `aggregateType`; refuses an empty id or result. */
export function streamIdFor(strategy: StreamIdStrategy, aggregateType: string, id: string): string {
  if (typeof id !== 'string' || id.length === 0) {
    throw new InvalidArgument(
      `Repository<${aggregateType}> expects a non-empty string id, found ${JSON.stringify(id)}.`,
    );
  }
  const streamId = strategy(aggregateType, id);
  if (typeof streamId !== 'string' || streamId.length === 0) {
    throw new InvalidArgument(
      `The streamId strategy of Repository<${aggregateType}> returned ${JSON.stringify(streamId)} for id ${id}; expected a non-empty string.`,
    );
  }
  return streamId;
}

/**
 * The aggregate id whose stream `strategy` names `streamId`, for a strategy that puts a fixed prefix
 * before the id (as {@link defaultStreamId} does); undefined otherwise.
 */
export function aggregateIdFor(
  strategy: StreamIdStrategy,
  aggregateType: string,
  streamId: string,
): string | undefined {
  if (typeof streamId !== 'string') return undefined;
  // A prefix strategy maps an id of length n to a stream id of length |prefix| + n: one candidate
  // per suffix, and at most one of them can map back to streamId.
  for (let start = 0; start < streamId.length; start++) {
    const candidate = streamId.slice(start);
    let derived: unknown;
    try {
      derived = strategy(aggregateType, candidate);
    } catch {
      continue;
    }
    if (derived === streamId) return candidate;
  }
  return undefined;
}
