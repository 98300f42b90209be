import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineEvent } from '../events/define-event.js';
import type { ProcessTimer } from './process-store.js';

/**
 * The event a due timer becomes: the timer poller appends it, and the process manager applies it in
 * log order with its other events, exactly once (its position is the instance's progress). Add it
 * to the event definitions of a store that runs process managers with timers.
 */
export const ProcessTimerFired = defineEvent('ProcessTimerFired', {
  schema: z.object({
    process: z.string(),
    key: z.string(),
    name: z.string(),
    scheduledBy: z.string(),
    dueAt: z.string(),
    message: z.object({ type: z.string() }).catchall(z.unknown()),
  }),
});

/** The stream timer fires of process manager `process` are appended to. */
export function timerStreamId(process: string): string {
  return `process-${process}`;
}

/**
 * The fire of `timer` as an event, with an id derived from the timer and its scheduling: a timer
 * fired twice (its claimant died before removing it) is appended once.
 */
export function timerFiredEvent(timer: ProcessTimer) {
  const hash = createHash('sha256')
    .update(JSON.stringify([timer.process, timer.key, timer.name, timer.scheduledBy]))
    .digest('hex');
  // An RFC 9562 version 8 (custom) UUID made of the hash.
  const id = `${hash.slice(0, 8)}-${hash.slice(8, 12)}-8${hash.slice(13, 16)}-${((Number.parseInt(hash[16]!, 16) & 0x3) | 0x8).toString(16)}${hash.slice(17, 20)}-${hash.slice(20, 32)}`;
  return ProcessTimerFired.create(
    {
      process: timer.process,
      key: timer.key,
      name: timer.name,
      scheduledBy: timer.scheduledBy,
      dueAt: timer.dueAt.toISOString(),
      message: timer.message as { type: string },
    },
    { id },
  );
}
