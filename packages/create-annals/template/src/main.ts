// reflect-metadata first: the decorators of the modules imported below need it when they load.
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { uuidv7 } from '@annals/core';
import { openApp } from './app.js';
import { AddTask, CompleteTask } from './application/commands.js';
import { Task } from './domain/task.js';
import { queryOpenTasks } from './read-models/open-tasks.js';

const databaseUrl = process.env.DATABASE_URL;
const app = await openApp(databaseUrl ? { databaseUrl } : { dataDir: process.env.DATA_DIR ?? '.data' });
try {
  const run = randomUUID().slice(0, 8);
  const [write, ship, old] = [`write-${run}`, `ship-${run}`, `old-${run}`];

  // Commands go through the bus to their tsyringe-resolved handlers.
  await app.bus.execute(AddTask, { taskId: write, title: 'Write the first aggregate' });
  await app.bus.execute(AddTask, { taskId: ship, title: 'Ship it', priority: 'high' });
  await app.bus.execute(CompleteTask, { taskId: write });

  // A task stored by an earlier release, at version 1 of TaskAdded: it is read as version 2.
  const { lastPosition } = await app.store.append(
    `Task-${old}`,
    [{ id: uuidv7(), type: 'TaskAdded', schemaVersion: 1, data: { taskId: old, title: 'From release 1' } }],
    { import: true },
  );
  const upcast = await app.repositories.get(Task).load(old);

  await app.waitForReadModel(lastPosition);
  const open = (await queryOpenTasks(app.store.kysely)).filter((t) => t.task_id.endsWith(run));
  console.log(`Store: ${databaseUrl ? 'PostgreSQL server' : 'PGlite'}`);
  console.log(`Upcast task ${old}: priority ${upcast.priority}`);
  console.log('Open tasks:', open.map((t) => `${t.task_id} (${t.priority})`).join(', '));

  const expected = [`old-${run} (normal)`, `ship-${run} (high)`];
  const found = open.map((t) => `${t.task_id} (${t.priority})`);
  if (upcast.priority !== 'normal' || JSON.stringify(found) !== JSON.stringify(expected)) {
    console.error(`Expected open tasks ${expected.join(', ')} and an upcast priority 'normal'.`);
    process.exitCode = 1;
  }
} finally {
  await app.close();
}
