import { InvalidArgument, type Projection } from '@annals/core';
import {
  type PostgresProjectionContext,
  PostgresProjectionControl,
  readProjectionOverview,
} from '@annals/postgres';
import type { Hono } from 'hono';
import type { ConsoleContext } from '../context.js';
import { jsonResponse } from '../json.js';
import { required } from '../params.js';

/** Projections (checkpoint, lag, lease, shards, pauses, rebuilds) and their actions: rebuild, pause, resume. */
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

  // Through the projection control every runner watches: each lets its batch commit and stops
  // applying the projection (within a third of its lease time-to-live), until it is resumed.
  app.post('/api/projections/pause', async (c) => {
    const name = required('name', c.req.query('name'));
    await ctx.gate.run(c.req.header('authorization'), 'pause', { projection: name }, async () => {
      await known(ctx, name);
      await new PostgresProjectionControl(ctx.store).pause(name);
    });
    return jsonResponse({ projection: name, paused: true });
  });

  app.post('/api/projections/resume', async (c) => {
    const name = required('name', c.req.query('name'));
    await ctx.gate.run(c.req.header('authorization'), 'resume', { projection: name }, async () => {
      const control = new PostgresProjectionControl(ctx.store);
      if (!(await control.isPaused(name))) {
        const paused = (await control.listPaused()).map((p) => p.name);
        throw new InvalidArgument(
          `Projection ${name} is not paused; paused now: ${paused.join(', ') || 'none'}.`,
        );
      }
      await control.resume(name);
    });
    return jsonResponse({ projection: name, paused: false });
  });
}

/**
 * Checks that `name` is a projection: configured, or with a checkpoint in the store; else
 * `INVALID_ARGUMENT` listing those there are (a typo pauses nothing).
 */
async function known(ctx: ConsoleContext, name: string): Promise<void> {
  if (ctx.projections.some((p) => p.name === name)) return;
  const names = [...new Set((await readProjectionOverview(ctx.store, ctx.projections)).map((p) => p.name))];
  if (!names.includes(name)) {
    throw new InvalidArgument(
      `There is no projection named ${name}; there are ${names.join(', ') || 'none'}.`,
    );
  }
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
