import { readSchemaState } from '@annals/postgres';
import type { Hono } from 'hono';
import type { ConsoleContext } from '../context.js';
import { jsonResponse } from '../json.js';

/** `GET /api/health`: schema version, the log's horizon and what holds it, open transactions. */
export function healthRoutes(app: Hono, ctx: ConsoleContext): void {
  app.get('/api/health', async () => {
    const schema = await readSchemaState(ctx.store);
    // Without the Annals tables there is no log to diagnose: the page says to migrate.
    const log = schema.pending.length > 0 ? undefined : await ctx.store.diagnostics();
    return jsonResponse({ schema, log, at: new Date().toISOString() });
  });
}
