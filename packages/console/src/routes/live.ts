import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { ConsoleContext } from '../context.js';
import { toJson } from '../json.js';
import { bigintParam, countParam } from '../params.js';

/**
 * `GET /api/live`: the global log as server-sent events (`append`, one per event, as stored and as
 * read), over the store's `subscribeToAll`: from `from`, or the `recent` latest events, then live.
 */
export function liveRoutes(app: Hono, ctx: ConsoleContext): void {
  app.get('/api/live', async (c) => {
    const fromText = c.req.query('from');
    const from = fromText === undefined ? undefined : bigintParam('from', fromText, 0n);
    const recent = fromText === undefined ? countParam('recent', c.req.query('recent') || '20', 20, 500) : 0;
    const subscription = await ctx.live.open(from, recent);
    return streamSSE(
      c,
      async (stream) => {
        stream.onAbort(() => void ctx.live.stop(subscription));
        await stream.writeSSE({ event: 'ready', data: '{}' });
        try {
          for await (const event of subscription) {
            if (stream.aborted || stream.closed) break;
            await stream.writeSSE({
              event: 'append',
              id: event.position.toString(),
              data: toJson(ctx.reader.view(event)),
            });
          }
        } finally {
          await ctx.live.stop(subscription);
        }
      },
      async (error, stream) => {
        await stream.writeSSE({
          event: 'failed',
          data: toJson({ message: error.message }),
        });
      },
    );
  });
}
