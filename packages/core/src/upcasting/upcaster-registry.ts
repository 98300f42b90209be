import { InvalidArgument } from '../errors/store-errors.js';
import type { EventMetadata } from '../events/event-types.js';
import { UpcasterChainInvalid } from './upcasting-errors.js';

/**
 * One step that turns stored data of `type` at version `from` into version `to`, optionally of another
 * type (`toType`: a rename). `up` receives the data and the event's metadata, both frozen, and returns
 * new data: it must be synchronous, pure and must not mutate its input (a frozen input makes a
 * mutation throw, which surfaces as an `UpcastFailed`).
 *
 * Only the last step's result is validated (by the current schema of the type the chain ends at), so
 * intermediate shapes are the upcasters' own business.
 */
export interface Upcaster<TFrom = any, TTo = unknown> {
  readonly type: string;
  readonly from: number;
  readonly to: number;
  /** The type the step leads to, for a rename. Default: `type`. */
  readonly toType?: string;
  readonly up: (data: TFrom, metadata: EventMetadata) => TTo;
}

/** A resolved chain from one stored (type, version) to where it ends. */
export interface UpcastPlan {
  /** The steps in the order they run; empty when nothing needs upcasting. */
  readonly steps: readonly Upcaster[];
  readonly toType: string;
  readonly toVersion: number;
}

/** The event definitions a registry is checked against: each type with its current version. */
export type KnownEventVersions = Iterable<{ readonly type: string; readonly version: number }>;

/**
 * The upcasters of an application. Register one step per schema change; stored events are never
 * rewritten, they are upcast on every read.
 *
 * The chains are checked against the event definitions when a store (or an `EventRegistry`) is
 * created with this registry ({@link UpcasterRegistry.check}); from then on the registry is sealed
 * and further `register` calls are refused, so a store never runs a chain it has not checked.
 *
 * @example
 * ```ts
 * const upcasters = new UpcasterRegistry()
 *   .register({ type: 'MoneyDeposited', from: 1, to: 2, up: (v1) => ({ accountId: v1.accountId, amount: { value: v1.amount, currency: 'EUR' } }) })
 *   .register({ type: 'FundsAdded', from: 1, toType: 'MoneyDeposited', to: 1, up: (d) => ({ accountId: d.account, amount: d.sum }) });
 * const store = new InMemoryEventStore({ events: [MoneyDeposited], upcasters });
 * ```
 */
export class UpcasterRegistry {
  /** Steps by type, then by the version they start from. */
  readonly #steps = new Map<string, Map<number, Upcaster>>();
  readonly #order: Upcaster[] = [];
  #sealed = false;

  /**
   * Adds one step. Refused at once: a malformed step (`InvalidArgument`), a second step from the same
   * (type, version) or a step that keeps its type and does not go up (`UpcasterChainInvalid`), and any
   * step after the registry was sealed by a store.
   */
  register<TFrom = any, TTo = unknown>(upcaster: Upcaster<TFrom, TTo>): this {
    if (typeof upcaster !== 'object' || upcaster === null) {
      throw new InvalidArgument(
        `register expects an upcaster { type, from, to, up }, found ${String(upcaster)}.`,
      );
    }
    const { type, from, to, toType } = upcaster;
    if (typeof type !== 'string' || type.length === 0) {
      throw new InvalidArgument(`Upcaster type must be a non-empty string, found ${JSON.stringify(type)}.`);
    }
    for (const [name, v] of [
      ['from', from],
      ['to', to],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) {
        throw new InvalidArgument(
          `Upcaster ${type}: '${name}' must be an integer >= 1, found ${JSON.stringify(v)}.`,
        );
      }
    }
    if (typeof upcaster.up !== 'function') {
      throw new InvalidArgument(
        `Upcaster ${type} v${from}: 'up' must be a function, found ${typeof upcaster.up}.`,
      );
    }
    if (toType !== undefined && (typeof toType !== 'string' || toType.length === 0)) {
      throw new InvalidArgument(
        `Upcaster ${type} v${from}: 'toType' must be a non-empty string, found ${JSON.stringify(toType)}.`,
      );
    }
    if (this.#sealed) {
      throw new InvalidArgument(
        `Upcaster ${type} v${from} was registered after a store was created with this registry; register every upcaster before creating the store, so its start-up check sees them all.`,
      );
    }
    const target = toType ?? type;
    if (target === type && to <= from) {
      throw new UpcasterChainInvalid({
        eventType: type,
        fromVersion: from,
        problem: 'backwards_step',
        detail: `a step that keeps its type must go to a higher version, found v${from} -> v${to}.`,
      });
    }
    let byVersion = this.#steps.get(type);
    if (byVersion === undefined) this.#steps.set(type, (byVersion = new Map()));
    const existing = byVersion.get(from);
    if (existing !== undefined) {
      throw new UpcasterChainInvalid({
        eventType: type,
        fromVersion: from,
        problem: 'duplicate_step',
        detail: `two upcasters start from ${type} v${from} (to ${describe(existing)} and to ${target} v${to}); each (type, version) takes exactly one step.`,
      });
    }
    const step: Upcaster = Object.freeze({
      type,
      from,
      to,
      ...(target === type ? {} : { toType: target }),
      up: upcaster.up as Upcaster['up'],
    });
    byVersion.set(from, step);
    this.#order.push(step);
    return this;
  }

  /** Every registered step, in registration order. */
  list(): readonly Upcaster[] {
    return this.#order.slice();
  }

  /** The step registered from (type, version), if any. */
  step(type: string, from: number): Upcaster | undefined {
    return this.#steps.get(type)?.get(from);
  }

  /** True once a store has checked and adopted this registry; `register` is refused from then on. */
  get sealed(): boolean {
    return this.#sealed;
  }

  /**
   * Refuses further `register` calls. Stores (through `EventRegistry`) seal the registry after
   * checking it, so no step can slip in unchecked.
   */
  seal(): this {
    this.#sealed = true;
    return this;
  }

  /**
   * Follows the chain from (type, version) to the first (type, version) that has no further step.
   * Throws {@link UpcasterChainInvalid} (`cycle`) when the chain comes back to where it has been.
   * Stores resolve each (type, version) once and cache the plan.
   */
  resolve(type: string, version: number): UpcastPlan {
    const steps: Upcaster[] = [];
    let currentType = type;
    let currentVersion = version;
    for (;;) {
      const next = this.step(currentType, currentVersion);
      if (next === undefined) return { steps, toType: currentType, toVersion: currentVersion };
      if (steps.includes(next)) {
        const path = [...steps, next].map((s) => `${s.type} v${s.from}`).join(' -> ');
        throw new UpcasterChainInvalid({
          eventType: type,
          fromVersion: version,
          problem: 'cycle',
          detail: `the chain has a cycle (${path}).`,
        });
      }
      steps.push(next);
      currentType = next.toType ?? next.type;
      currentVersion = next.to;
    }
  }

  /**
   * Checks every chain against the event definitions (each type with its current version) and throws
   * {@link UpcasterChainInvalid} on the first problem, in registration order:
   *
   * - each step must start below the current version of its type, when that type is defined;
   * - following the steps from each one must not cycle, and must end at the current version of a
   *   defined type (not below: a missing step; not above: a version no definition knows; not at an
   *   undefined type);
   * - with `requireChains` (the default; stores set it when they are given upcasters), a defined type
   *   past version 1 must be reached by at least one step (its own or a rename), since its older stored
   *   events could not be read otherwise. A type that really starts above v1 with no older events is
   *   expressed by a rename into it, or by defining it at version 1. A store given no upcasters at all
   *   skips this rule: an event stored at an older version then fails on read with `UpcastFailed`.
   *
   * Stores call this when they are created, so a broken chain fails at start-up, not on read.
   */
  check(definitions: KnownEventVersions, options: { readonly requireChains?: boolean } = {}): void {
    const current = new Map<string, number>();
    for (const def of definitions) current.set(def.type, def.version);
    for (const step of this.#order) {
      const own = current.get(step.type);
      if (own !== undefined && step.from >= own) {
        throw new UpcasterChainInvalid({
          eventType: step.type,
          fromVersion: step.from,
          problem: 'upcasts_current_version',
          detail: `a step starts at ${step.type} v${step.from}, but the current version of ${step.type} is v${own}; events written today would be upcast on read. Steps start below the current version (bump the definition to the version the chain reaches).`,
        });
      }
      const plan = this.resolve(step.type, step.from);
      const end = current.get(plan.toType);
      if (end === undefined) {
        throw new UpcasterChainInvalid({
          eventType: step.type,
          fromVersion: step.from,
          problem: 'unknown_type',
          detail: `it ends at ${plan.toType} v${plan.toVersion}, but no event definition has type ${plan.toType}${known(current)}.`,
        });
      }
      if (plan.toVersion > end) {
        throw new UpcasterChainInvalid({
          eventType: step.type,
          fromVersion: step.from,
          problem: 'unknown_version',
          detail: `it ends at ${plan.toType} v${plan.toVersion}, a version no definition knows (the current version of ${plan.toType} is v${end}).`,
        });
      }
      if (plan.toVersion < end) {
        throw new UpcasterChainInvalid({
          eventType: step.type,
          fromVersion: step.from,
          problem: 'missing_step',
          detail: `it stops at ${plan.toType} v${plan.toVersion}, below the current v${end}: the step from ${plan.toType} v${plan.toVersion} is missing.`,
        });
      }
    }
    if (options.requireChains === false) return;
    const reached = new Set<string>();
    for (const step of this.#order) {
      reached.add(step.type);
      reached.add(step.toType ?? step.type);
    }
    for (const [type, version] of current) {
      if (version > 1 && !reached.has(type)) {
        throw new UpcasterChainInvalid({
          eventType: type,
          fromVersion: version - 1,
          problem: 'missing_step',
          detail: `${type} is defined at v${version}, but no upcaster leads to it: the step from v${version - 1} to v${version} is missing, so stored ${type} events of older versions could not be read.`,
        });
      }
    }
  }
}

function describe(step: Upcaster): string {
  return `${step.toType ?? step.type} v${step.to}`;
}

function known(current: ReadonlyMap<string, number>): string {
  const types = [...current.keys()];
  if (types.length === 0) return ' (no event is defined)';
  const shown = types.slice(0, 20).join(', ');
  return ` (defined: ${shown}${types.length > 20 ? `, and ${types.length - 20} more` : ''})`;
}
