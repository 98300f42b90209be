import type { RecordedEvent } from '@annals/core';
import type { PostgresEventStore } from '@annals/postgres';

/**
 * The whole log of `store` once nothing more is being appended: read when no committed event waits
 * above the horizon any more. A transaction open elsewhere on the shared server (another test file,
 * another process) holds readers back for as long as it runs, which on a loaded machine outlasts
 * the store's own wait in `readAll`; reading before it ends would take the horizon for a loss.
 * `boundMs` only stops a stuck server from hanging the test (the log is then read as it is).
 */
export async function finalLog(store: PostgresEventStore, boundMs = 60_000): Promise<RecordedEvent[]> {
  const deadline = Date.now() + boundMs;
  while ((await store.diagnostics()).eventsBehindHorizon > 0 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
  const events: RecordedEvent[] = [];
  for await (const e of store.readAll()) events.push(e);
  return events;
}
