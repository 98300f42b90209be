import type { StoreBackend } from '../backends/store-backend.js';
import type { BenchOptions, Sizes } from './options.js';
import type { BackendName, Figure, FigureRef, MeasurementSpec } from './types.js';

/** What a group needs to build its measurements on one backend. */
export interface GroupContext {
  readonly backend: StoreBackend;
  readonly options: BenchOptions;
  readonly sizes: Sizes;
  /** The backend whose baselines memory figures are compared with: the server, else PGlite. */
  readonly referenceBackend: BackendName | undefined;
}

/** The measurements of a group on one backend, ready to run round-robin. */
export interface BuiltGroup {
  readonly specs: readonly MeasurementSpec[];
  /** Figures that cannot be measured here, each with its reason. */
  readonly unavailable?: readonly Figure[];
  /** Releases what the group opened (stores, connections). */
  close?(): Promise<void>;
}

/** Measurements that belong together: the Annals figures and the baselines they are judged by. */
export interface BenchGroup {
  readonly name: string;
  /** Backends the group runs on (default: all). */
  readonly backends?: readonly BackendName[];
  /** At most this many measured rounds, for groups whose rounds take many seconds. */
  readonly maxRounds?: number;
  /** At most this many warm-up rounds (a round of 100,000 events warms the JIT up by itself). */
  readonly maxWarmupRounds?: number;
  build(ctx: GroupContext): Promise<BuiltGroup>;
}

/** The figure reported for a measurement that cannot run. */
export function unavailableFigure(
  spec: Pick<MeasurementSpec, 'id' | 'backend' | 'title' | 'unit' | 'operation'> & {
    readonly compareWith?: readonly FigureRef[];
  },
  reason: string,
): Figure {
  return {
    id: spec.id,
    backend: spec.backend,
    kind: 'annals',
    title: spec.title,
    unit: spec.unit,
    operation: spec.operation,
    status: 'not-available',
    reason,
  };
}

/** The baseline an Annals figure of `ctx.backend` is compared with: same backend, or the reference one for memory. */
export function baselineRef(ctx: GroupContext, id: string): FigureRef[] {
  if (ctx.backend.sql !== undefined) return [{ id, backend: ctx.backend.name }];
  return ctx.referenceBackend === undefined ? [] : [{ id, backend: ctx.referenceBackend }];
}
