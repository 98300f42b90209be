import { defineEvent, type EventData, UpcasterRegistry } from '@annals/core';
import { z } from 'zod';

export const Priority = z.enum(['low', 'normal', 'high']);

/** Version 2 carries a priority; version 1 (an earlier release) had none, see `upcasters`. */
export const TaskAdded = defineEvent('TaskAdded', {
  version: 2,
  schema: z.object({ taskId: z.string(), title: z.string().min(1), priority: Priority }),
});

export const TaskCompleted = defineEvent('TaskCompleted', {
  schema: z.object({ taskId: z.string() }),
});

/** Every event type of the application, for the store's registry. */
export const taskEvents = [TaskAdded, TaskCompleted];

/** Tasks stored at version 1 are read as version 2 with a normal priority; stored rows never change. */
export const upcasters = new UpcasterRegistry().register({
  type: 'TaskAdded',
  from: 1,
  to: 2,
  up: (v1: { taskId: string; title: string }) => ({ ...v1, priority: 'normal' as const }),
});

export type Added = EventData<typeof TaskAdded>;
