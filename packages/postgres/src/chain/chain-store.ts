import { type EventStore, InvalidArgument } from '@annals/core';
import type { Kysely } from 'kysely';
import { SchemaNotMigrated } from '../errors/postgres-errors.js';
import { sqlState } from '../store/database-errors.js';
import { PostgresEventStore } from '../store/postgres-event-store.js';
import { toUnavailable } from '../store/unavailable.js';
import { ChainUnsupported } from './chain-errors.js';

/** The tables of a store's chain: its Kysely instance without plugins, and its schema. */
export interface ChainTables {
  readonly store: PostgresEventStore;
  readonly db: Kysely<any>;
  readonly schema: string;
}

/** The chain tables of `store`, or `ChainUnsupported` when it is not a `PostgresEventStore`. */
export function chainTablesOf(store: EventStore): ChainTables {
  if (!(store instanceof PostgresEventStore)) {
    const name = (store as { constructor?: { name?: string } } | null)?.constructor?.name;
    throw new ChainUnsupported(name === undefined ? String(store) : `a ${name}`);
  }
  return { store, db: store.kysely.withoutPlugins(), schema: store.schema };
}

/**
 * Runs `work`, turning a missing chain table into `SchemaNotMigrated` and a lost connection into
 * `StoreUnavailable`.
 */
export async function onChain<T>(tables: ChainTables, operation: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (sqlState(error) === '42P01') {
      throw new SchemaNotMigrated(tables.schema, 'no event_chain table (migration 0010_event_chain)', {
        cause: error,
      });
    }
    throw toUnavailable(operation, error);
  }
}

/** The batch size option: a whole number from 1 to 100000 (default 2000). */
export function batchSizeOf(value: unknown): number {
  if (value === undefined) return 2000;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 100_000) {
    throw new InvalidArgument(`batchSize must be a whole number from 1 to 100000, found ${String(value)}.`);
  }
  return value;
}
