import type { Progress } from './progress.js';
import { distribution } from './stats.js';
import type { Figure, MeasurementSpec, RoundSample } from './types.js';

/** How a group of measurements is run. */
export interface GroupOptions {
  /** Unrecorded rounds before the measured ones (JIT, caches, connection warm-up). */
  readonly warmupRounds: number;
  /** Measured rounds. */
  readonly rounds: number;
  /** A setup, round or teardown that takes longer fails its measurement, so a run never hangs. */
  readonly timeoutMs: number;
  readonly progress: Progress;
  /**
   * Runs once after every setup, before the warm-up: PostgreSQL backends ANALYZE the freshly seeded
   * tables here, so every round runs with the plans a table in service has.
   */
  readonly afterSetup?: () => Promise<void>;
}

interface SpecState {
  readonly spec: MeasurementSpec;
  readonly samples: RoundSample[];
  error?: string;
}

/**
 * Runs specs round-robin: every spec's warm-up, then round 1 of each, round 2 of each, ... with the
 * order reversed every other round. Comparing figures measured interleaved like this keeps their
 * ratio honest on a shared machine, where noise comes in bursts. A spec that throws is reported as
 * failed and dropped from the rotation; the others go on.
 */
export async function runGroup(specs: readonly MeasurementSpec[], options: GroupOptions): Promise<Figure[]> {
  const states: SpecState[] = specs.map((spec) => ({ spec, samples: [] }));
  const { progress } = options;
  const live = () => states.filter((s) => s.error === undefined);

  for (const state of states) {
    if (state.spec.setup === undefined) continue;
    progress.step(`${label(state.spec)}: setup`);
    await attempt(state, 'setup', () => state.spec.setup!(), options.timeoutMs);
  }
  if (options.afterSetup !== undefined) {
    progress.step('statistics');
    await options.afterSetup();
  }
  for (let w = 0; w < options.warmupRounds; w++) {
    for (const state of ordered(live(), w)) {
      progress.step(`${label(state.spec)}: warm-up ${w + 1}/${options.warmupRounds}`);
      await attempt(state, 'warm-up', () => state.spec.round(w - options.warmupRounds), options.timeoutMs);
    }
  }
  for (let r = 0; r < options.rounds; r++) {
    for (const state of ordered(live(), r)) {
      progress.step(`${label(state.spec)}: round ${r + 1}/${options.rounds}`);
      await attempt(
        state,
        `round ${r + 1}`,
        async () => {
          state.samples.push(await state.spec.round(r));
        },
        options.timeoutMs,
      );
    }
  }
  for (const state of states) {
    if (state.spec.teardown === undefined) continue;
    await attempt(state, 'teardown', () => state.spec.teardown!(), options.timeoutMs);
  }
  return states.map((state) => {
    const figure = toFigure(state);
    progress.result(describe(figure));
    return figure;
  });
}

function ordered(states: SpecState[], round: number): SpecState[] {
  return round % 2 === 0 ? states : [...states].reverse();
}

async function attempt(
  state: SpecState,
  what: string,
  work: () => Promise<unknown>,
  timeoutMs: number,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what} did not finish within ${Math.round(timeoutMs / 1000)} s`)),
          timeoutMs,
        );
      }),
    ]);
  } catch (error) {
    // The first error explains the failure; a teardown error after it adds nothing.
    state.error ??= `${what}: ${errorText(error)}`;
  } finally {
    clearTimeout(timer);
  }
}

/** One line of an error, with its code when it is an AnnalsError. */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${typeof code === 'string' ? `${code}: ` : ''}${error.message.split('\n')[0]}`;
  }
  return String(error);
}

function toFigure(state: SpecState): Figure {
  const { spec, samples } = state;
  const base = {
    id: spec.id,
    backend: spec.backend,
    kind: spec.kind,
    title: spec.title,
    unit: spec.unit,
    operation: spec.operation,
    ...(spec.note === undefined ? {} : { note: spec.note }),
  };
  if (state.error !== undefined) return { ...base, status: 'failed', reason: state.error };
  const counters: Record<string, number> = {};
  const latencies: number[] = [];
  for (const sample of samples) {
    for (const [key, value] of Object.entries(sample.counters ?? {}))
      counters[key] = (counters[key] ?? 0) + value;
    if (sample.latenciesMs === undefined) latencies.push(sample.elapsedMs);
    else for (const l of sample.latenciesMs) latencies.push(l);
  }
  const hasCounters = Object.keys(counters).length > 0;
  return {
    ...base,
    status: 'ok',
    throughput: distribution(samples.map((s) => s.units / (s.elapsedMs / 1000))),
    latencyMs: distribution(latencies),
    ...(hasCounters ? { counters } : {}),
    ...(spec.derive !== undefined ? { derived: spec.derive(counters) } : {}),
    rounds: samples.map((s) => ({ units: s.units, elapsedMs: s.elapsedMs })),
  };
}

function label(spec: MeasurementSpec): string {
  return `${spec.backend} ${spec.id}`;
}

function describe(figure: Figure): string {
  if (figure.status !== 'ok') return `✗ ${figure.backend} ${figure.id}: ${figure.status} (${figure.reason})`;
  const rate = Math.round(figure.throughput!.median).toLocaleString('en-US');
  return `✓ ${figure.backend} ${figure.id}: ${rate} ${figure.unit}`;
}
