import { InMemoryEventStore } from '@annals/core';
import { eventStoreConformanceCases, runEventStoreConformance } from '@annals/testing';

runEventStoreConformance({
  name: 'InMemoryEventStore',
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
