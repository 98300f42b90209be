/**
 * Prints the tables of a results file as Markdown, for docs/guides/performance.md:
 *
 *   tsx test/bench/report-markdown.ts test/bench/results/<timestamp>.json
 */
import { readFileSync } from 'node:fs';
import { formatRate } from './harness/report-table.js';
import type { BenchResults } from './harness/results-file.js';
import type { BackendName, Figure } from './harness/types.js';

const BACKENDS: readonly BackendName[] = ['memory', 'pglite', 'server'];

function cell(figure: Figure | undefined, backend: BackendName): string {
  if (figure === undefined) return '';
  if (figure.status !== 'ok') return figure.status === 'not-available' ? 'not available' : figure.status;
  const rate = `${formatRate(figure.throughput!.median)} ${figure.unit}`;
  const ratio = figure.ratios?.[0];
  const shown =
    ratio?.ratio === undefined
      ? ''
      : ` (${ratio.ratio.toFixed(2)}x${ratio.baseline.backend === backend ? '' : ` ${ratio.baseline.backend}`})`;
  const conflicts = figure.derived?.conflictRate;
  return `${rate}${shown}${conflicts === undefined ? '' : `, ${(conflicts * 100).toFixed(0)}% conflicts`}`;
}

function ms(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toFixed(3);
}

function main(): void {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: report-markdown.ts <results.json>\n');
    process.exit(2);
  }
  const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
  const backends = BACKENDS.filter((b) => results.backends[b] === 'measured');
  const ids: string[] = [];
  for (const f of results.figures) if (!ids.includes(f.id)) ids.push(f.id);
  const find = (id: string, backend: BackendName) =>
    results.figures.find((f) => f.id === id && f.backend === backend);
  const title = (id: string) => results.figures.find((f) => f.id === id)!.title;
  const baselineOf = (id: string) =>
    results.figures.find((f) => f.id === id && f.ratios?.[0] !== undefined)?.ratios?.[0]?.baseline.id ?? '';
  const out: string[] = [];
  const row = (cells: readonly string[]) => out.push(`| ${cells.join(' | ')} |`);
  row(['measurement', 'compared with', ...backends]);
  row(['---', '---', ...backends.map(() => '---:')]);
  for (const kind of ['annals', 'baseline'] as const) {
    for (const id of ids.filter((i) => results.figures.find((f) => f.id === i)!.kind === kind)) {
      row([
        title(id),
        `\`${baselineOf(id)}\``.replace('``', ''),
        ...backends.map((b) => cell(find(id, b), b)),
      ]);
    }
  }
  out.push('');
  row(['operation', ...backends.map((b) => `${b}: median / p99 ms`)]);
  row(['---', ...backends.map(() => '---:')]);
  for (const id of ids) {
    const sample = results.figures.find((f) => f.id === id && f.status === 'ok');
    if (sample === undefined) continue;
    row([
      `${sample.title}: ${sample.operation}`,
      ...backends.map((b) => {
        const l = find(id, b)?.latencyMs;
        return l === undefined ? '' : `${ms(l.median)} / ${ms(l.p99)} (n=${l.count})`;
      }),
    ]);
  }
  out.push('');
  row(['target (issue 8)', 'measured', 'verdict']);
  row(['---', '---:', '---']);
  for (const t of results.targets) {
    const measured =
      t.measured === undefined
        ? '-'
        : t.baseline === undefined
          ? `${formatRate(t.measured)}/s`
          : `${(t.measured * 100).toFixed(0)}%`;
    row([t.description, measured, t.verdict]);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

main();
