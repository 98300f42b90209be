import type { CheckpointStore, LeaseStore } from '@annals/core';
import { PostgresCheckpointStore } from '../checkpoint/postgres-checkpoint-store.js';
import { PostgresLeasedCheckpointStore } from '../checkpoint/postgres-leased-checkpoint-store.js';
import type { PostgresEventStore } from '../store/postgres-event-store.js';
import { PostgresLeaseStore } from './postgres-lease-store.js';

/**
 * The leases and checkpoints a runner on `store` uses: with `leases` true (the default on a server,
 * where several processes run), the `projection_leases` table and checkpoints checked against it;
 * false (the default on PGlite), plain checkpoints; a `LeaseStore`, that one.
 */
export function runnerLeases(
  store: PostgresEventStore,
  leases: boolean | LeaseStore | undefined,
): { readonly leases: LeaseStore | undefined; readonly checkpoints: CheckpointStore } {
  const wanted = leases ?? store?.capabilities?.multiProcess ?? false;
  const chosen = wanted === true ? new PostgresLeaseStore(store) : wanted === false ? undefined : wanted;
  return {
    leases: chosen,
    checkpoints:
      chosen === undefined ? new PostgresCheckpointStore(store) : new PostgresLeasedCheckpointStore(store),
  };
}
