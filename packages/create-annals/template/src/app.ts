import type { CommandBus, Repositories } from '@annals/core';
import { registerAnnals } from '@annals/core/tsyringe';
import { PostgresEventStore, PostgresProjectionRunner } from '@annals/postgres';
import { container } from 'tsyringe';
import { taskHandlers } from './application/commands.js';
import { taskEvents, upcasters } from './domain/events.js';
import { createReadModel, OpenTasks } from './read-models/open-tasks.js';

/** Where the events are kept: a PostgreSQL server, or PGlite (PostgreSQL embedded) in a data folder. */
export type AppStore = { readonly databaseUrl: string } | { readonly dataDir: string };

/** The application, wired around one store. */
export interface App {
  readonly store: PostgresEventStore;
  readonly bus: CommandBus;
  readonly repositories: Repositories;
  /** Waits until the read model holds every event up to the global `position` (an append's `lastPosition`). */
  waitForReadModel(position: bigint): Promise<void>;
  close(): Promise<void>;
}

/** Opens the store, migrates it, creates the read model and starts its projection runner. */
export async function openApp(where: AppStore): Promise<App> {
  const store = await PostgresEventStore.create(
    'databaseUrl' in where ? { connectionString: where.databaseUrl } : { pglite: where.dataDir },
    { events: taskEvents, upcasters, strict: true, schema: 'app_events' },
  );
  await store.migrate();
  await createReadModel(store.kysely);

  const { bus, repositories } = registerAnnals(container.createChildContainer(), {
    store,
    handlers: taskHandlers,
  });
  const runner = new PostgresProjectionRunner({ store, projections: [OpenTasks] });
  await runner.start();

  return {
    store,
    bus,
    repositories,
    async waitForReadModel(position) {
      await runner.waitUntilCaughtUp();
      // Caught up means: with every event visible when asked. On a busy server an event can become
      // visible a moment later (a concurrent transaction holds the horizon back), so wait for its position.
      while ((runner.status(OpenTasks.name)?.position ?? 0n) < position) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        await runner.refreshStatus();
      }
    },
    async close() {
      await runner.stop();
      await store.close();
    },
  };
}
