import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { ActionGate } from './action-gate.js';
import { AggregateStates } from './aggregate-states.js';
import { assetRoutes } from './assets.js';
import { normalizeBasePath } from './base-path.js';
import type { ConsoleContext } from './context.js';
import { errorBody, statusOf } from './errors.js';
import { EventReader } from './event-reader.js';
import { jsonResponse } from './json.js';
import { LiveFeeds } from './live-feeds.js';
import type { ConsoleOptions } from './options.js';
import { RebuildJobs } from './rebuild-jobs.js';
import { deadLetterRoutes } from './routes/dead-letters.js';
import { healthRoutes } from './routes/health.js';
import { liveRoutes } from './routes/live.js';
import { projectionRoutes } from './routes/projections.js';
import { streamRoutes } from './routes/streams.js';

/** A console: a Hono app to serve or mount, and `close()` to end its feeds and rebuilds. */
export interface AnnalsConsole {
  /** The Hono app (mount it with `app.route(...)` in a Hono server). */
  readonly app: Hono;
  /** The path it is mounted at (`/` by default). */
  readonly basePath: string;
  /** Whether state-changing actions are allowed (tokens were given). */
  readonly actionsAllowed: boolean;
  /** Answers one request: `app.fetch`, for any server that speaks the Fetch API. */
  fetch(request: Request): Response | Promise<Response>;
  /** Ends the live feeds and stops running rebuilds (they continue from their checkpoint later). Not the store. */
  close(): Promise<void>;
}

/**
 * Creates the web console of `options.store`: streams and their events (as stored and as read),
 * aggregate state at a revision, the live global log, projections with their lag, leases and
 * rebuilds, dead letters, and the log's health. Read-only unless `options.tokens` are given.
 *
 * @example
 * ```ts
 * const console = await createConsole({ store, projections: [AccountBalances], aggregates: [BankAccount] });
 * const served = await serveConsole(console, { port: 4300 });
 * ```
 */
export async function createConsole(options: ConsoleOptions): Promise<AnnalsConsole> {
  const basePath = normalizeBasePath(options.basePath);
  const logger = options.logger ?? console;
  const gate = new ActionGate(options.tokens ?? [], logger);
  const store = options.store;
  const reader = await EventReader.open(store);
  const ctx: ConsoleContext = {
    store,
    reader,
    aggregates: new AggregateStates(store, options.aggregates ?? [], options.streamId),
    projections: options.projections ?? [],
    gate,
    rebuilds: new RebuildJobs(store, options.runners ?? []),
    live: new LiveFeeds(reader.raw),
  };
  // Not strict: `/console/` reaches the page's route as `/console` does (which redirects to it).
  const app = (
    basePath === '/' ? new Hono({ strict: false }) : new Hono({ strict: false }).basePath(basePath)
  ) as Hono;
  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
      },
    }),
  );
  app.onError((error, c) => {
    const status = statusOf(error);
    if (status === 500)
      logger.error(`console request ${c.req.method} ${c.req.path} failed`, errorBody(error));
    return jsonResponse(errorBody(error), status);
  });
  app.get('/api/info', () =>
    jsonResponse({
      schema: store.schema,
      actionsAllowed: gate.enabled,
      projections: ctx.projections.map((p) => p.name),
      aggregates: (options.aggregates ?? []).map((a) => a.name),
      definitions: store.registry.definitions().length > 0,
    }),
  );
  streamRoutes(app, ctx);
  liveRoutes(app, ctx);
  projectionRoutes(app, ctx);
  deadLetterRoutes(app, ctx);
  healthRoutes(app, ctx);
  app.all('/api/*', (c) =>
    jsonResponse(errorBody(new Error(`No such API route: ${c.req.method} ${c.req.path}`)), 404),
  );
  assetRoutes(app, basePath);
  let closing: Promise<void> | undefined;
  return {
    app,
    basePath,
    actionsAllowed: gate.enabled,
    fetch: (request) => app.fetch(request),
    close() {
      closing ??= (async () => {
        await ctx.live.close();
        await ctx.rebuilds.close();
        await reader.close();
      })();
      return closing;
    },
  };
}
