import { InMemoryCheckpointStore, InMemoryEventStore } from '@annals/core';
import { runTenantIsolationCase, tenantIsolationCases } from '@annals/testing';
import { describe, expect, it } from 'vitest';

/**
 * The isolation cases prove something only if they fail a store that leaks. This one checks tenant
 * ids but hands every tenant the same log, as a store that forgot a tenant filter would.
 */
class SharedLogStore extends InMemoryEventStore {
  override forTenant(tenantId: string): InMemoryEventStore {
    super.forTenant(tenantId); // the id check
    return this;
  }
}

const readPaths = tenantIsolationCases.filter((c) => !c.name.startsWith('forTenant'));

describe('tenant-isolation cases against a store that leaks', () => {
  it('there is a case per read path', () => {
    expect(readPaths.map((c) => c.name.split(':')[0])).toEqual([
      'readStream',
      'readAll',
      'subscribeToStream',
      'subscribeToAll',
      'projections and checkpoints',
      'export',
    ]);
  });

  for (const isolationCase of readPaths) {
    it(`fails: ${isolationCase.name}`, async () => {
      const run = runTenantIsolationCase(isolationCase, {
        createStore: (options) => new SharedLogStore(options),
        createCheckpointStore: () => new InMemoryCheckpointStore(),
        deliveryTimeoutMs: 1000,
      });
      await expect(run).rejects.toThrow();
    });
  }
});
