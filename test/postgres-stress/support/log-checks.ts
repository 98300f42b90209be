import type { RecordedEvent } from '@annals/core';

const MAX_LISTED = 8;

function list(values: readonly unknown[]): string {
  const shown = values.slice(0, MAX_LISTED).map(String).join(', ');
  return values.length > MAX_LISTED ? `${shown}, ... (${values.length} in all)` : shown;
}

function describeEvent(e: RecordedEvent): string {
  return `${e.streamId}@${e.revision} (position ${e.position})`;
}

/**
 * Problems with what one reader received compared with the reference log (a final `readAll`):
 * duplicates, positions that do not strictly increase, missing and unexpected events, and a different
 * order. Returns one sentence per problem, each naming the reader; an empty array means it matches.
 */
export function compareWithLog(
  reader: string,
  received: readonly RecordedEvent[],
  reference: readonly RecordedEvent[],
): string[] {
  const problems: string[] = [];

  const seen = new Map<string, number>();
  const duplicates: string[] = [];
  for (const e of received) {
    const count = (seen.get(e.id) ?? 0) + 1;
    seen.set(e.id, count);
    if (count === 2) duplicates.push(describeEvent(e));
  }
  if (duplicates.length > 0) {
    problems.push(`${reader} received ${duplicates.length} events more than once: ${list(duplicates)}`);
  }

  const backwards: string[] = [];
  for (let i = 1; i < received.length; i++) {
    const before = received[i - 1]!;
    const after = received[i]!;
    if (after.position <= before.position) backwards.push(`${before.position} then ${after.position}`);
  }
  if (backwards.length > 0) {
    problems.push(`${reader} saw positions that do not strictly increase: ${list(backwards)}`);
  }

  const referenceIds = new Set(reference.map((e) => e.id));
  const missing = reference.filter((e) => !seen.has(e.id));
  if (missing.length > 0) {
    problems.push(
      `${reader} missed ${missing.length} events: positions ${list(missing.map((e) => e.position))}`,
    );
  }
  const extra = received.filter((e) => !referenceIds.has(e.id));
  if (extra.length > 0) {
    problems.push(
      `${reader} received ${extra.length} events that the final log does not hold: ${list(extra.map(describeEvent))}`,
    );
  }

  if (problems.length === 0) {
    const index = received.findIndex(
      (e, i) => e.id !== reference[i]!.id || e.position !== reference[i]!.position,
    );
    if (index >= 0) {
      problems.push(
        `${reader} received event ${index} as ${describeEvent(received[index]!)}, the final log has ${describeEvent(reference[index]!)} there`,
      );
    }
  }
  return problems;
}

/**
 * Problems with the streams of a log: per stream, revisions must run 0, 1, 2, ... without gap in
 * position order. Returns one sentence per broken stream.
 */
export function checkStreamRevisions(log: readonly RecordedEvent[]): string[] {
  const next = new Map<string, bigint>();
  const problems: string[] = [];
  for (const e of log) {
    const expected = next.get(e.streamId) ?? 0n;
    if (e.revision !== expected) {
      problems.push(
        `stream ${e.streamId}: expected revision ${expected} next, found ${e.revision} at position ${e.position}`,
      );
    }
    next.set(e.streamId, e.revision + 1n);
  }
  return problems;
}
