import { InvalidArgument } from '../errors/store-errors.js';
import type { EventMetadata } from '../events/event-types.js';
import { UpcasterChainError } from './upcasting-errors.js';

/**
 * One step that turns stored data of `type` at version `from` into version `to`, optionally of another
 * type (`toType`, a rename). `up` receives the data and the event's metadata and returns new data; it
 * must not mutate its input.
 */
export interface Upcaster {
  readonly type: string;
  readonly from: number;
  readonly to: number;
  readonly toType?: string;
  readonly up: (data: any, metadata: EventMetadata) => unknown;
}

/** A resolved chain from one stored (type, version) to a current definition. */
export interface UpcastPlan {
  readonly steps: readonly Upcaster[];
  readonly toType: string;
  readonly toVersion: number;
}

/** What the registry must know of the event definitions to check its chains. */
export interface KnownEventVersions {
  /** The current version of `type`, or undefined when no definition exists. */
  currentVersion(type: string): number | undefined;
}

/**
 * The upcasters of an application. Register one step per schema change; stored events are never
 * rewritten, they are upcast on every read.
 *
 * @example
 * ```ts
 * const upcasters = new UpcasterRegistry()
 *   .register({ type: 'MoneyDeposited', from: 1, to: 2, up: (v1) => ({ accountId: v1.accountId, amount: { value: v1.amount, currency: 'EUR' } }) })
 *   .register({ type: 'FundsAdded', from: 1, toType: 'MoneyDeposited', to: 1, up: (d) => d });
 * const store = new InMemoryEventStore({ events: [MoneyDeposited], upcasters });
 * ```
 */
export class UpcasterRegistry {
  readonly #steps = new Map<string, Upcaster>();

  /** Adds one step. Two upcasters for the same (type, from) are refused at once. */
  register(upcaster: Upcaster): this {
    const { type, from, to } = upcaster;
    if (typeof type !== 'string' || type.length === 0) {
      throw new InvalidArgument(`Upcaster type must be a non-empty string, found ${JSON.stringify(type)}.`);
    }
    for (const [name, v] of [
      ['from', from],
      ['to', to],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) {
        throw new InvalidArgument(`Upcaster ${type}: '${name}' must be an integer >= 1, found ${String(v)}.`);
      }
    }
    if (typeof upcaster.up !== 'function') {
      throw new InvalidArgument(`Upcaster ${type} v${from}: 'up' must be a function.`);
    }
    if (
      upcaster.toType !== undefined &&
      (typeof upcaster.toType !== 'string' || upcaster.toType.length === 0)
    ) {
      throw new InvalidArgument(`Upcaster ${type} v${from}: 'toType' must be a non-empty string.`);
    }
    if ((upcaster.toType === undefined || upcaster.toType === type) && to <= from) {
      throw new UpcasterChainError(type, from, `a step must go to a higher version (from ${from} to ${to}).`);
    }
    const key = stepKey(type, from);
    if (this.#steps.has(key)) {
      throw new UpcasterChainError(type, from, `two upcasters are registered for the step from v${from}.`);
    }
    this.#steps.set(key, Object.freeze({ ...upcaster }));
    return this;
  }

  /** Every registered step. */
  list(): readonly Upcaster[] {
    return [...this.#steps.values()];
  }

  /** The step registered for (type, from), if any. */
  step(type: string, from: number): Upcaster | undefined {
    return this.#steps.get(stepKey(type, from));
  }

  /**
   * Follows the chain from (type, version) to the first (type, version) that has no further step.
   * Throws {@link UpcasterChainError} on a cycle.
   */
  resolve(type: string, version: number): UpcastPlan {
    const steps: Upcaster[] = [];
    const seen = new Set<string>();
    let currentType = type;
    let currentVersion = version;
    for (;;) {
      const key = stepKey(currentType, currentVersion);
      if (seen.has(key)) {
        const path = [...seen, key].join(' -> ');
        throw new UpcasterChainError(type, version, `the chain has a cycle (${path}).`);
      }
      seen.add(key);
      const next = this.#steps.get(key);
      if (next === undefined) return { steps, toType: currentType, toVersion: currentVersion };
      steps.push(next);
      currentType = next.toType ?? currentType;
      currentVersion = next.to;
    }
  }

  /**
   * Checks every chain against the definitions: each must end at the current version of a defined
   * type. Called when a store or runtime is created, so a broken chain fails at start-up.
   */
  check(known: KnownEventVersions): void {
    for (const upcaster of this.#steps.values()) {
      const plan = this.resolve(upcaster.type, upcaster.from);
      const current = known.currentVersion(plan.toType);
      if (current === undefined) {
        throw new UpcasterChainError(
          upcaster.type,
          upcaster.from,
          `it ends at ${plan.toType} v${plan.toVersion}, but no event definition has type ${plan.toType}.`,
        );
      }
      if (plan.toVersion > current) {
        throw new UpcasterChainError(
          upcaster.type,
          upcaster.from,
          `it ends at ${plan.toType} v${plan.toVersion}, a version no definition knows (current is v${current}).`,
        );
      }
      if (plan.toVersion < current) {
        throw new UpcasterChainError(
          upcaster.type,
          upcaster.from,
          `it stops at ${plan.toType} v${plan.toVersion}; the step from v${plan.toVersion} to v${current} is missing.`,
        );
      }
    }
  }
}

function stepKey(type: string, version: number): string {
  return `${type}@${version}`;
}
