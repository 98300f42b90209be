import { type DeadLetter, InvalidArgument } from '@annals/core';
import { PostgresDeadLetterStore } from '@annals/postgres';
import type { Hono } from 'hono';
import type { ConsoleContext } from '../context.js';
import { jsonResponse } from '../json.js';
import { required } from '../params.js';

/** Dead letters: the list, one letter with its failing event and error. */
export function deadLetterRoutes(app: Hono, ctx: ConsoleContext): void {
  const letters = new PostgresDeadLetterStore(ctx.store);

  app.get('/api/dead-letters', async (c) => {
    const projection = c.req.query('projection') || undefined;
    return jsonResponse({ deadLetters: await letters.list(projection) });
  });

  app.get('/api/dead-letter', async (c) => {
    const eventId = required('event', c.req.query('event'));
    const key = c.req.query('key') || undefined;
    const found = await lettersOf(letters, eventId, key);
    const event = await ctx.reader.event(eventId);
    return jsonResponse({ deadLetters: found, event });
  });
}

/** The dead letters of `eventId` (of checkpoint key `key` when given); `INVALID_ARGUMENT` when none. */
export async function lettersOf(
  letters: PostgresDeadLetterStore,
  eventId: string,
  key: string | undefined,
): Promise<DeadLetter[]> {
  const found = (await letters.list()).filter(
    (l) => l.eventId === eventId && (key === undefined || l.key === key),
  );
  if (found.length === 0) {
    throw new InvalidArgument(
      `No dead letter for event ${eventId}${key === undefined ? '' : ` under ${key}`}.`,
    );
  }
  return found;
}
