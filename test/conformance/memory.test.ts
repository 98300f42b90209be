import { InMemoryCheckpointStore, InMemoryEventStore } from '@annals/core';
import {
  eventStoreConformanceCases,
  runEventStoreConformance,
  runTenantIsolationConformance,
} from '@annals/testing';

runEventStoreConformance({
  name: 'InMemoryEventStore',
  capabilities: { appendConditions: true },
  createStore: (options) => new InMemoryEventStore(options),
});

// Pages of two make every subscription's catch-up span several reads while writers append.
runEventStoreConformance({
  name: 'InMemoryEventStore (page size 2)',
  createStore: (options) => new InMemoryEventStore({ ...options, pageSize: 2 }),
  cases: eventStoreConformanceCases().filter((c) =>
    ['subscriptions', 'publish/subscribe', 'close', 'upcasting'].includes(c.group),
  ),
});

// Each tenant handle is a log of its own; the checkpoint store is the tenant's own too.
runTenantIsolationConformance({
  name: 'InMemoryEventStore',
  createStore: (options) => new InMemoryEventStore(options),
  createCheckpointStore: () => new InMemoryCheckpointStore(),
});
