import { InvalidArgument, type Projection } from '@annals/core';
import { type PostgresProjectionContext, readProjectionOverview } from '@annals/postgres';
import type { Hono } from 'hono';
import type { ConsoleContext } from '../context.js';
import { jsonResponse } from '../json.js';
import { required } from '../params.js';

/** Projections (checkpoint, lag, lease, shards, rebuilds) and the rebuild action. */
export function projectionRoutes(app: Hono, ctx: ConsoleContext): void {
  app.get('/api/projections', async () => {
    const overview = await readProjectionOverview(ctx.store, ctx.projections);
    return jsonResponse({
      projections: overview,
      configured: ctx.projections.map((p) => ({
        name: p.name,
        shards: p.shards,
        rebuildable: p.resettable,
      })),
    });
  });

  // Apart from the overview, and from memory only: a rebuild's progress shows while its batches
  // keep the database busy (on PGlite, its one connection).
  app.get('/api/rebuilds', () => jsonResponse({ rebuilds: ctx.rebuilds.list() }));

  app.post('/api/projections/rebuild', async (c) => {
    const name = required('name', c.req.query('name'));
    const job = await ctx.gate.run(
      c.req.header('authorization'),
      'rebuild',
      { projection: name },
      async (record) => {
        const projection = configured(ctx, name);
        return ctx.rebuilds.start(projection, record.who, (error) => ctx.gate.finished(record, error));
      },
    );
    return jsonResponse({ rebuild: job }, 202);
  });
}

/** The configured projection named `name`, or `INVALID_ARGUMENT` listing those there are. */
export function configured(ctx: ConsoleContext, name: string): Projection<PostgresProjectionContext> {
  const found = ctx.projections.find((p) => p.name === name);
  if (found === undefined) {
    throw new InvalidArgument(
      `The console knows no projection named ${name}; it has ${ctx.projections.map((p) => p.name).join(', ') || 'none (give the config its projections)'}.`,
    );
  }
  return found;
}
