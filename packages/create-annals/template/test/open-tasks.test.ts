import { ProjectionSpec } from '@annals/testing';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TaskAdded, TaskCompleted, taskEvents, upcasters } from '../src/domain/events.js';
import {
  createReadModel,
  OpenTasks,
  type OpenTasksContext,
  queryOpenTasks,
  type ReadModel,
} from '../src/read-models/open-tasks.js';

// The projection writes SQL, so its spec runs on a PostgreSQL database: PGlite in memory.
let db: Kysely<ReadModel>;

beforeAll(async () => {
  db = new Kysely<ReadModel>({ dialect: new PGliteDialect({ pglite: new PGlite() }) });
  await createReadModel(db);
});
beforeEach(async () => {
  await db.deleteFrom('open_tasks').execute();
});
afterAll(async () => {
  await db?.destroy();
});

const spec = () =>
  ProjectionSpec.for(OpenTasks, {
    events: taskEvents,
    upcasters,
    // The handlers use only what any Kysely handle has, so the spec hands them the database itself.
    context: () => ({ tx: db }) as OpenTasksContext,
    state: () => queryOpenTasks(db),
  });

describe('OpenTasks', () => {
  it('lists added tasks and drops completed ones', async () => {
    await spec()
      .given([
        { streamId: 'Task-a', ...TaskAdded.create({ taskId: 'a', title: 'A', priority: 'low' }) },
        { streamId: 'Task-b', ...TaskAdded.create({ taskId: 'b', title: 'B', priority: 'high' }) },
        { streamId: 'Task-a', ...TaskCompleted.create({ taskId: 'a' }) },
      ])
      .thenState(async (rows) => {
        expect(await rows, 'only task b is still open').toEqual([
          { task_id: 'b', title: 'B', priority: 'high' },
        ]);
      });
  });
});
