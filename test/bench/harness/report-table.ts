import type { TargetResult } from './targets.js';
import type { BackendName, Figure } from './types.js';

/** What the final table needs besides the figures. */
export interface TableContext {
  readonly title: string;
  /** Backends in column order, each measured or with the reason it was not. */
  readonly backends: readonly { readonly name: BackendName; readonly note?: string }[];
  readonly targets: readonly TargetResult[];
  readonly resultsFile: string | undefined;
  /** Printed first among the notes (e.g. a busy machine). */
  readonly warnings: readonly string[];
  /** Row order by figure id (figures not listed follow in the order given). */
  readonly order?: readonly string[];
}

const UNIT: Record<string, string> = {
  'events/s': 'ev/s',
  'rows/s': 'rows/s',
  'appends/s': 'app/s',
  'commands/s': 'cmd/s',
  'loads/s': 'loads/s',
};

/** Formats a rate compactly: 1,234 / 12.3k / 1.23M. */
export function formatRate(value: number): string {
  if (!Number.isFinite(value)) return '-';
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  return Math.round(value).toLocaleString('en-US');
}

function formatMs(value: number): string {
  if (!Number.isFinite(value)) return '-';
  if (value >= 100) return value.toFixed(0);
  if (value >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  rightFrom: number,
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => pad(c, widths[i]!, i >= rightFrom))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function cellStatus(figure: Figure | undefined): string | undefined {
  if (figure === undefined) return '';
  if (figure.status === 'not-available') return 'not available';
  if (figure.status === 'failed') return 'FAILED';
  if (figure.status === 'skipped') return 'skipped';
  return undefined;
}

/** The throughput table: one row per measurement, one column per backend, with the ratio to its baseline. */
function throughputTable(figures: readonly Figure[], backends: readonly BackendName[]): string {
  const ids = orderedIds(figures);
  const annals = ids.filter((id) => figures.some((f) => f.id === id && f.kind === 'annals'));
  const baselines = ids.filter((id) => !annals.includes(id));
  const rows: string[][] = [];
  const row = (id: string) => {
    const sample = figures.find((f) => f.id === id)!;
    const firstRatio = figures.find((f) => f.id === id && f.ratios !== undefined)?.ratios?.[0];
    const cells = backends.map((backend) => {
      const figure = figures.find((f) => f.id === id && f.backend === backend);
      const status = cellStatus(figure);
      if (status !== undefined) return status;
      const rate = `${formatRate(figure!.throughput!.median)} ${UNIT[figure!.unit] ?? figure!.unit}`;
      const ratio = figure!.ratios?.[0]?.ratio;
      const conflict = figure!.derived?.conflictRate;
      const extra = conflict === undefined ? '' : `, ${(conflict * 100).toFixed(0)}% conflicts`;
      const dagger =
        figure!.ratios?.[0] !== undefined && figure!.ratios[0].baseline.backend !== backend ? '*' : '';
      return `${rate}${ratio === undefined ? '' : `  ${ratio.toFixed(2)}x${dagger}`}${extra}`;
    });
    rows.push([
      sample.title,
      firstRatio === undefined ? '' : firstRatio.baseline.id.replace(/^baseline\./, ''),
      ...cells,
    ]);
  };
  for (const id of annals) row(id);
  if (baselines.length > 0) {
    rows.push(['', '', ...backends.map(() => '')]);
    rows.push(['Physical baselines (plain SQL, same run)', '', ...backends.map(() => '')]);
    for (const id of baselines) row(id);
  }
  return renderTable(
    ['measurement (median throughput, ratio to baseline)', 'baseline', ...backends],
    rows,
    2,
  );
}

/** The latency table: median and p99 per operation. */
function latencyTable(figures: readonly Figure[], backends: readonly BackendName[]): string {
  const ids = orderedIds(figures.filter((f) => f.status === 'ok'));
  const rows = ids.map((id) => {
    const sample = figures.find((f) => f.id === id)!;
    return [
      `${sample.title}: ${sample.operation}`,
      ...backends.map((backend) => {
        const figure = figures.find((f) => f.id === id && f.backend === backend);
        const status = cellStatus(figure);
        if (status !== undefined) return status;
        const l = figure!.latencyMs!;
        return `${formatMs(l.median)} / ${formatMs(l.p99)}  (n=${l.count.toLocaleString('en-US')})`;
      }),
    ];
  });
  return renderTable(['latency per operation, ms: median / p99 (n = samples)', ...backends], rows, 1);
}

/** Distinct figure ids, in the order the figures come. */
function orderedIds(figures: readonly Figure[]): string[] {
  const ids: string[] = [];
  for (const f of figures) if (!ids.includes(f.id)) ids.push(f.id);
  return ids;
}

/** Sorts figures by `order` of their ids (stable: figures of one id, or unlisted, keep their order). */
export function orderFigures<F extends Figure>(figures: readonly F[], order: readonly string[]): F[] {
  const rank = (id: string) => {
    const i = order.indexOf(id);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return [...figures].sort((a, b) => rank(a.id) - rank(b.id));
}

/** The whole report printed at the end of a run. */
export function renderReport(unordered: readonly Figure[], ctx: TableContext): string {
  const figures = orderFigures(unordered, ctx.order ?? []);
  const names = ctx.backends.filter((b) => b.note === undefined).map((b) => b.name);
  const parts = [ctx.title, '', throughputTable(figures, names), '', latencyTable(figures, names), ''];
  const notes: string[] = ctx.warnings.map((w) => `WARNING: ${w}`);
  for (const b of ctx.backends) if (b.note !== undefined) notes.push(`${b.name}: ${b.note}`);
  if (names.includes('memory'))
    notes.push(
      '* memory has no database: its ratio is to the baseline of the server (else PGlite) in this run.',
    );
  // One note per reason, listing what it hit: a missing feature is one line, not one per figure.
  const byReason = new Map<string, string[]>();
  for (const f of figures) {
    if (f.status === 'ok' || f.reason === undefined) continue;
    const key = `${f.status}: ${f.reason}`;
    byReason.set(key, [...(byReason.get(key) ?? []), `${f.backend} ${f.id}`]);
  }
  for (const [reason, hits] of byReason) notes.push(`${hits.join(', ')}: ${reason}`);
  for (const f of figures) if (f.note !== undefined) notes.push(`${f.backend} ${f.id}: ${f.note}`);
  if (notes.length > 0) parts.push('Notes:', ...notes.map((n) => `  - ${n}`), '');
  parts.push('Targets (issue 8):');
  for (const t of ctx.targets) {
    const value =
      t.measured === undefined
        ? ''
        : t.baseline === undefined
          ? ` (measured ${formatRate(t.measured)}/s)`
          : ` (measured ${(t.measured * 100).toFixed(0)}%)`;
    parts.push(`  - ${t.verdict.padEnd(12)} ${t.description}${value}`);
  }
  if (ctx.resultsFile !== undefined) parts.push('', `Results: ${ctx.resultsFile}`);
  return `${parts.join('\n')}\n`;
}
