import { defineProjection } from '@annals/core';
import type { PostgresProjectionContext } from '@annals/postgres';
import type { Kysely } from 'kysely';
import { TaskAdded, TaskCompleted } from '../domain/events.js';

/** The read model's table, as Kysely sees it. */
export interface ReadModel {
  open_tasks: { task_id: string; title: string; priority: string };
}

/** What the handlers write with: the transaction the runner also commits the checkpoint in. */
export type OpenTasksContext = PostgresProjectionContext<ReadModel>;

/** Creates the read-model table if it is missing. */
export async function createReadModel(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('open_tasks')
    .ifNotExists()
    .addColumn('task_id', 'text', (c) => c.primaryKey())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('priority', 'text', (c) => c.notNull())
    .execute();
}

/** The tasks not completed yet, in a PostgreSQL table written with the projection's checkpoint. */
export const OpenTasks = defineProjection({
  name: 'open-tasks',
  events: [TaskAdded, TaskCompleted],
  handlers: {
    TaskAdded: async (e, { tx }: OpenTasksContext) => {
      await tx
        .insertInto('open_tasks')
        .values({ task_id: e.data.taskId, title: e.data.title, priority: e.data.priority })
        .execute();
    },
    TaskCompleted: async (e, { tx }: OpenTasksContext) => {
      await tx.deleteFrom('open_tasks').where('task_id', '=', e.data.taskId).execute();
    },
  },
  reset: async ({ tx }: OpenTasksContext) => {
    await tx.deleteFrom('open_tasks').execute();
  },
});

/** Reads the open tasks, ordered by id. */
export function queryOpenTasks(db: Kysely<any>) {
  return (db as Kysely<ReadModel>).selectFrom('open_tasks').selectAll().orderBy('task_id').execute();
}
