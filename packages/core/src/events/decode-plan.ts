import type { Upcaster, UpcasterRegistry } from '../upcasting/upcaster-registry.js';
import type { AnyEventDefinition } from './define-event.js';
import { type SchemaMode, schemaMode } from './schema-mode.js';

/** What a stored (type, version) is read as: the type and version after upcasting. */
export interface UpcastTarget {
  readonly type: string;
  readonly version: number;
}

/**
 * How events stored at one (type, version) are decoded: the steps to run, the definition that
 * validates the result, or why such events cannot be read.
 */
export interface DecodePlan {
  readonly steps: readonly Upcaster[];
  readonly target: UpcastTarget;
  /** The definition of the target type (validates the result of the steps). */
  readonly definition: AnyEventDefinition | undefined;
  /** Set when events stored at this (type, version) cannot be read; the UpcastFailed reason. */
  readonly failure: string | undefined;
  /** How the target definition's data is written and read (see {@link SchemaMode}). */
  readonly mode: SchemaMode | undefined;
}

/**
 * The decode plans of a registry's definitions and (sealed) upcasters, each resolved on first use
 * and cached by stored type, then stored version.
 */
export class DecodePlans {
  readonly #definitions: ReadonlyMap<string, AnyEventDefinition>;
  readonly #upcasters: UpcasterRegistry;
  readonly #plans = new Map<string, Map<number, DecodePlan>>();
  /** The plan asked for last, and its key. */
  #lastType: string | undefined = undefined;
  #lastVersion = 0;
  #lastPlan: DecodePlan | undefined = undefined;

  constructor(definitions: ReadonlyMap<string, AnyEventDefinition>, upcasters: UpcasterRegistry) {
    this.#definitions = definitions;
    this.#upcasters = upcasters;
  }

  /** The cached plan for (type, version); resolved on first use. */
  get(type: string, version: number): DecodePlan {
    // Reads and appends mostly meet one (type, version) after another: the last plan answers first.
    if (this.#lastType === type && this.#lastVersion === version) return this.#lastPlan!;
    const plan = this.#cached(type, version);
    this.#lastType = type;
    this.#lastVersion = version;
    this.#lastPlan = plan;
    return plan;
  }

  #cached(type: string, version: number): DecodePlan {
    let byVersion = this.#plans.get(type);
    if (byVersion === undefined) this.#plans.set(type, (byVersion = new Map()));
    let plan = byVersion.get(version);
    if (plan === undefined) {
      plan = this.#resolve(type, version);
      byVersion.set(version, plan);
    }
    return plan;
  }

  #resolve(type: string, version: number): DecodePlan {
    const { steps, toType, toVersion } = this.#upcasters.resolve(type, version);
    const definition = this.#definitions.get(toType);
    const target: UpcastTarget = Object.freeze({ type: toType, version: toVersion });
    let failure: string | undefined;
    if (definition === undefined) {
      // Checked at start-up: a chain always ends at a definition. Plain JSON types have no steps.
      if (steps.length > 0) failure = `the chain ends at ${toType}, a type no event definition has`;
    } else if (toVersion > definition.version) {
      failure = `this application defines ${toType} only up to v${definition.version}, so v${toVersion} was written by a newer version of the application; deploy that version, or add the definition`;
    } else if (toVersion < definition.version) {
      failure = `no upcaster leads from ${toType} v${toVersion} to the current v${definition.version}`;
    }
    const mode = definition === undefined ? undefined : schemaMode(definition.schema);
    return { steps, target, definition, failure, mode };
  }
}
