import type { Figure, FigureRef, MeasurementSpec, Ratio } from './types.js';

/** Looks a figure up by id and backend. */
export function findFigure(figures: readonly Figure[], ref: FigureRef): Figure | undefined {
  return figures.find((f) => f.id === ref.id && f.backend === ref.backend);
}

/**
 * Adds to every measured figure its ratios to the figures its spec compares it with (median
 * throughput over median throughput, both from this run). A missing or failed baseline gives an
 * undefined ratio rather than a made-up one.
 */
export function attachRatios(
  figures: readonly Figure[],
  comparisons: ReadonlyMap<string, readonly FigureRef[]>,
): Figure[] {
  return figures.map((figure) => {
    const refs = comparisons.get(comparisonKey(figure));
    if (refs === undefined || refs.length === 0) return figure;
    const ratios: Ratio[] = refs.map((ref) => {
      const baseline = findFigure(figures, ref);
      const ours = figure.throughput?.median;
      const theirs = baseline?.status === 'ok' ? baseline.throughput?.median : undefined;
      return {
        baseline: ref,
        ratio: ours !== undefined && theirs !== undefined && theirs > 0 ? ours / theirs : undefined,
      };
    });
    return { ...figure, ratios };
  });
}

/** The key under which a spec's comparisons are kept. */
export function comparisonKey(figure: Pick<MeasurementSpec, 'id' | 'backend'>): string {
  return `${figure.backend}:${figure.id}`;
}
