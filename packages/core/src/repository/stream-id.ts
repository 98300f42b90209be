/**
 * Derives the stream id of an aggregate from its type and id. Every part of Annals that needs an
 * aggregate's stream (repositories, test kits, `Repositories`) asks the repository, which uses one
 * strategy, so the id is derived one way everywhere.
 */
export type StreamIdStrategy = (aggregateType: string, aggregateId: string) => string;

/** The default strategy: `${aggregateType}-${aggregateId}`, e.g. `BankAccount-acc-1`. */
export const defaultStreamId: StreamIdStrategy = (aggregateType, aggregateId) =>
  `${aggregateType}-${aggregateId}`;
