import type { Hono } from 'hono';
import type { ConsoleContext } from '../context.js';
import { jsonResponse } from '../json.js';
import { bigintParam, countParam, required } from '../params.js';

/** Streams by prefix, a stream's events by page, one event by id, an aggregate's state at a revision. */
export function streamRoutes(app: Hono, ctx: ConsoleContext): void {
  app.get('/api/streams', async (c) => {
    const prefix = c.req.query('prefix') ?? '';
    const after = c.req.query('after');
    const limit = countParam('limit', c.req.query('limit'), 50, 500);
    const streams = await ctx.reader.streams(prefix, after === '' ? undefined : after, limit);
    return jsonResponse({ streams, more: streams.length === limit });
  });

  app.get('/api/stream', async (c) => {
    const streamId = required('id', c.req.query('id'));
    const from = bigintParam('from', c.req.query('from'), 0n);
    const limit = countParam('limit', c.req.query('limit'), 20, 500);
    const page = await ctx.reader.page(streamId, from, limit);
    return jsonResponse({
      streamId,
      from: from.toString(),
      limit,
      lastRevision: page.lastRevision,
      aggregateType: ctx.aggregates.typeOf(streamId),
      events: page.events,
    });
  });

  app.get('/api/event', async (c) => {
    const event = await ctx.reader.event(required('id', c.req.query('id')));
    return jsonResponse({ event });
  });

  app.get('/api/state', async (c) => {
    const streamId = required('stream', c.req.query('stream'));
    const revision = bigintParam('revision', required('revision', c.req.query('revision')), 0n);
    const state = await ctx.aggregates.at(streamId, revision);
    return jsonResponse({ state });
  });
}
