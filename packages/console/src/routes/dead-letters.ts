import { InvalidArgument, type StoredDeadLetter } from '@annals/core';
import { discardDeadLetter, PostgresDeadLetterStore, retryDeadLetter } from '@annals/postgres';
import type { Hono } from 'hono';
import type { ConsoleContext } from '../context.js';
import { jsonResponse } from '../json.js';
import { required } from '../params.js';
import { configured } from './projections.js';

/** Dead letters: the list, one letter with its failing event and error, retry and discard. */
export function deadLetterRoutes(app: Hono, ctx: ConsoleContext): void {
  const letters = new PostgresDeadLetterStore(ctx.store);

  const letterOf = async (id: string): Promise<StoredDeadLetter> => {
    const letter = await letters.get(id);
    if (letter === undefined) throw new InvalidArgument(`No dead letter with id ${id}; the list shows them.`);
    return letter;
  };

  app.get('/api/dead-letters', async (c) => {
    const projection = c.req.query('projection') || undefined;
    return jsonResponse({ deadLetters: await letters.list(projection) });
  });

  app.get('/api/dead-letter', async (c) => {
    const letter = await letterOf(required('id', c.req.query('id')));
    const event = await ctx.reader.event(letter.eventId);
    return jsonResponse({ deadLetter: letter, event });
  });

  app.post('/api/dead-letters/retry', async (c) => {
    const id = required('id', c.req.query('id'));
    await ctx.gate.run(c.req.header('authorization'), 'dead-letter.retry', { id }, async () => {
      const letter = await letterOf(id);
      await retryDeadLetter(ctx.store, configured(ctx, letter.projection), letter);
    });
    return jsonResponse({ retried: id });
  });

  app.post('/api/dead-letters/discard', async (c) => {
    const id = required('id', c.req.query('id'));
    await ctx.gate.run(c.req.header('authorization'), 'dead-letter.discard', { id }, async () => {
      await discardDeadLetter(ctx.store, await letterOf(id));
    });
    return jsonResponse({ discarded: id });
  });
}
