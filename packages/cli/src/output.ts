import type { RecordedEvent } from '@annals/core';

/** JSON with bigints as decimal strings and dates as ISO strings. */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v), indent);
}

/** Writes one line to stdout, waiting when the pipe is full (so a large listing streams). */
export async function writeLine(line: string): Promise<void> {
  if (!process.stdout.write(`${line}\n`)) {
    await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
  }
}

/** Prints rows as aligned columns under a header; `(none)` when there are none. */
export async function printTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): Promise<void> {
  if (rows.length === 0) {
    await writeLine('(none)');
    return;
  }
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  await writeLine(line(headers));
  for (const row of rows) await writeLine(line(row));
}

/** An event as the one JSON object `--json` prints for it. */
export function eventJson(event: RecordedEvent): Record<string, unknown> {
  return {
    position: event.position.toString(),
    streamId: event.streamId,
    revision: event.revision.toString(),
    id: event.id,
    type: event.type,
    schemaVersion: event.schemaVersion,
    recordedAt: event.recordedAt.toISOString(),
    data: event.data,
    metadata: event.metadata,
  };
}

/** An event for people: a header line, then its data and (when not empty) metadata, indented. */
export function formatEvent(event: RecordedEvent): string {
  const header = `${event.recordedAt.toISOString()}  ${event.streamId}@${event.revision}  ${event.type} v${event.schemaVersion}  #${event.position}  ${event.id}`;
  const lines = [header, `  data     ${toJson(event.data)}`];
  if (Object.keys(event.metadata).length > 0) lines.push(`  metadata ${toJson(event.metadata)}`);
  return lines.join('\n');
}

/** A duration in milliseconds for people: `850ms`, `12.3s`, `4m05s`, `2h03m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
