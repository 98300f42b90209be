import {
  type EventRegistryOptions,
  type EventStore,
  type EventStoreCapabilities,
  hasErrorCode,
} from '@annals/core';
import { defaultCapabilities } from '@annals/core/adapter';
import { describe, it } from 'vitest';
import { appendCases } from './append-cases.js';
import { batchCases } from './batch-cases.js';
import { capabilityCases } from './capability-cases.js';
import { closeCases } from './close-cases.js';
import type { ConformanceCase, ConformanceContext, PeerFactory, StoreFactory } from './conformance-types.js';
import { dcbCases } from './dcb-cases.js';
import { dcbExampleCases } from './dcb-example-cases.js';
import { dcbRaceCases } from './dcb-race-cases.js';
import { exactDataCases } from './exact-data-cases.js';
import { idempotencyCases } from './idempotency-cases.js';
import { importCases } from './import-cases.js';
import { multiProcessCases } from './multi-process-cases.js';
import { orderingCases } from './ordering-cases.js';
import { personalDataCases } from './personal-data-cases.js';
import { publishSubscribeCases } from './publish-subscribe-cases.js';
import { readAllCases } from './read-all-cases.js';
import { readStreamCases } from './read-stream-cases.js';
import { recordedEventCases } from './recorded-event-cases.js';
import { subscriptionCases } from './subscription-cases.js';
import { upcastingCases } from './upcasting-cases.js';

/**
 * Every case of the event-store conformance suite, grouped (`append & expected revision`, `atomic
 * batches & validation`, `exact data`, `idempotency`, `readStream`, `readAll & filters`, `ordering`,
 * `subscriptions`, `publish/subscribe`, `close`, `recorded events`, `capabilities`, `upcasting`, `personal data`).
 * Each case proves one guarantee of the `EventStore` contract against any store. Filter the list to
 * run a subset: `runEventStoreConformance({ ..., cases: eventStoreConformanceCases().filter(...) })`.
 */
export function eventStoreConformanceCases(): readonly ConformanceCase[] {
  return Object.freeze([
    ...appendCases,
    ...batchCases,
    ...exactDataCases,
    ...idempotencyCases,
    ...readStreamCases,
    ...readAllCases,
    ...orderingCases,
    ...subscriptionCases,
    ...publishSubscribeCases,
    ...closeCases,
    ...recordedEventCases,
    ...importCases,
    ...capabilityCases,
    ...upcastingCases,
    ...personalDataCases,
    ...multiProcessCases,
    ...dcbCases,
    ...dcbExampleCases,
    ...dcbRaceCases,
  ]);
}

/** What {@link runConformanceCase} needs to run one case. */
export interface ConformanceCaseOptions {
  /** Creates a fresh, empty store for the given definitions and upcasters. */
  readonly createStore: StoreFactory;
  /** The flags the store declares; omitted ones take {@link defaultCapabilities}. */
  readonly capabilities?: Partial<EventStoreCapabilities>;
  /** How long cases wait for a subscription to deliver what they expect. Default 5000 ms. */
  readonly deliveryTimeoutMs?: number;
  /** Opens another instance on a store's log; required when the store declares `multiProcess`. */
  readonly openPeer?: PeerFactory;
}

/** Options of {@link runEventStoreConformance}. */
export interface EventStoreConformanceOptions extends ConformanceCaseOptions {
  /** Names the adapter in the test report: `describe('<name>: <group>')`. */
  readonly name: string;
  /** The cases to run. Default: {@link eventStoreConformanceCases}. */
  readonly cases?: readonly ConformanceCase[];
  /** Vitest timeout of each case in milliseconds. Default 30000. */
  readonly caseTimeoutMs?: number;
}

/** The declared capabilities with defaults filled in. */
export function resolveCapabilities(capabilities?: Partial<EventStoreCapabilities>): EventStoreCapabilities {
  return Object.freeze({ ...defaultCapabilities, ...capabilities });
}

/**
 * Runs one conformance case against stores made by `createStore`, outside of any test registration
 * (the suite's own tests use it to show a broken store fails). Every store the case creates is closed
 * afterwards, whether it passed or not. Rejects with the case's failure; a store that fails to close
 * (other than being closed already) fails a case that passed.
 *
 * @example
 * ```ts
 * const [race] = eventStoreConformanceCases().filter((c) => c.group === 'ordering');
 * await runConformanceCase(race!, { createStore: (options) => new InMemoryEventStore(options) });
 * ```
 */
export async function runConformanceCase(
  conformanceCase: ConformanceCase,
  options: ConformanceCaseOptions,
): Promise<void> {
  const capabilities = resolveCapabilities(options.capabilities);
  if (conformanceCase.requires !== undefined && !conformanceCase.requires(capabilities)) {
    throw new Error(
      `The case "${conformanceCase.name}" needs capabilities the store does not declare: ${JSON.stringify(capabilities)}.`,
    );
  }
  const stores: EventStore[] = [];
  const context: ConformanceContext = {
    capabilities,
    ...(options.deliveryTimeoutMs === undefined ? {} : { deliveryTimeoutMs: options.deliveryTimeoutMs }),
    async createStore(registryOptions: EventRegistryOptions = {}) {
      const store = await options.createStore(registryOptions);
      stores.push(store);
      return store;
    },
    ...(options.openPeer === undefined
      ? {}
      : {
          async openPeer(store: EventStore) {
            const peer = await options.openPeer!(store);
            stores.push(peer);
            return peer;
          },
        }),
  };
  let failure: { error: unknown } | undefined;
  try {
    await conformanceCase.run(context);
  } catch (error) {
    failure = { error };
  }
  const closeErrors: unknown[] = [];
  for (const store of stores.reverse()) {
    try {
      await store.close();
    } catch (error) {
      if (!hasErrorCode(error, 'STORE_CLOSED')) closeErrors.push(error);
    }
  }
  if (failure !== undefined) throw failure.error;
  if (closeErrors.length > 0) {
    throw new Error(`The case passed, but closing a store it created failed: ${String(closeErrors[0])}`, {
      cause: closeErrors[0],
    });
  }
}

/**
 * Registers the event-store conformance suite with vitest: one `describe('<name>: <group>')` per
 * group and one `it` per case. A case whose `requires` the declared capabilities do not satisfy is
 * registered as skipped, so the report shows what was not proved. Call it at the top level of a test
 * file; each case gets fresh stores from `createStore` and closes them.
 *
 * Every adapter's tests call this, and a third-party adapter can prove itself the same way.
 *
 * @example
 * ```ts
 * import { InMemoryEventStore } from '@annals/core';
 * import { runEventStoreConformance } from '@annals/testing';
 *
 * runEventStoreConformance({
 *   name: 'InMemoryEventStore',
 *   createStore: (options) => new InMemoryEventStore(options),
 * });
 * ```
 */
export function runEventStoreConformance(options: EventStoreConformanceOptions): void {
  const capabilities = resolveCapabilities(options.capabilities);
  if (capabilities.multiProcess && options.openPeer === undefined) {
    throw new Error(
      `${options.name} declares multiProcess: pass openPeer, which opens another instance on a store's log, so the suite can prove it.`,
    );
  }
  const cases = options.cases ?? eventStoreConformanceCases();
  const groups = new Map<string, ConformanceCase[]>();
  for (const c of cases) {
    const list = groups.get(c.group) ?? [];
    list.push(c);
    groups.set(c.group, list);
  }
  const timeout = options.caseTimeoutMs ?? 30_000;
  for (const [group, members] of groups) {
    describe(`${options.name}: ${group}`, () => {
      for (const c of members) {
        const supported = c.requires === undefined || c.requires(capabilities);
        it.skipIf(!supported)(c.name, { timeout }, () => runConformanceCase(c, { ...options, capabilities }));
      }
    });
  }
}
