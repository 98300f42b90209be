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
    // A browser that reconnects sends the id (position) of the last event it received.
    const lastEventId = c.req.header('last-event-id');
    const fromText = c.req.query('from');
    const from =
      lastEventId !== undefined && lastEventId !== ''
        ? bigintParam('Last-Event-ID', lastEventId, 0n) + 1n
        : fromText === undefined
          ? undefined
          : bigintParam('from', fromText, 0n);
    const recent = from === undefined ? countParam('recent', c.req.query('recent'), 20, 500) : 0;
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
