import type { StoredDeadLetter } from '@annals/core';
import {
  deadLetterEvent,
  discardDeadLetter,
  PostgresDeadLetterStore,
  retryDeadLetter,
} from '@annals/postgres';
import type { Command } from 'commander';
import { projectionNamed } from '../config.js';
import { letterOf, lettersOf } from '../dead-letter-rows.js';
import { eventJson, formatEvent, printTable, toJson, writeLine } from '../output.js';
import { withSession } from '../session.js';

/** `annals dead-letters list|show|retry|discard`. */
export function registerDeadLetters(program: Command): void {
  const deadLetters = program
    .command('dead-letters')
    .description("events projections skipped under their 'dead-letter' failure policy");
  deadLetters
    .command('list')
    .description('list dead letters, oldest first')
    .option('--projection <name>', 'of one projection only')
    .option('--json', 'print one JSON object per line')
    .action(async (options: { projection?: string; json?: boolean }, command: Command) => {
      await withSession(command, { config: 'optional', definitions: false }, async ({ store }) => {
        const letters = await new PostgresDeadLetterStore(store).list(options.projection);
        if (options.json === true) {
          for (const letter of letters) await writeLine(toJson(letterJson(letter)));
          return;
        }
        await printTable(
          ['ID', 'EVENT', 'KEY', 'TYPE', 'STREAM', 'POSITION', 'ATTEMPTS', 'RECORDED', 'ERROR'],
          letters.map((l) => [
            l.id,
            l.eventId,
            l.key,
            l.eventType,
            l.streamId,
            l.position.toString(),
            String(l.attempts),
            l.recordedAt.toISOString(),
            firstLine(l.error),
          ]),
        );
      });
    });
  deadLetters
    .command('show')
    .description('a dead letter with its error, stack and event (as stored)')
    .argument('<id>', "the dead letter's id (see list), or the skipped event's id")
    .option('--projection <name>', 'when several projections skipped the event')
    .option('--json', 'print JSON')
    .action(async (eventId: string, options: { projection?: string; json?: boolean }, command: Command) => {
      await withSession(command, { config: 'optional', definitions: false }, async ({ store }) => {
        const letters = await lettersOf(store, eventId, options.projection);
        const event = await deadLetterEvent(store, letters[0]!);
        if (options.json === true) {
          for (const letter of letters)
            await writeLine(toJson({ ...letterJson(letter), event: eventJson(event) }));
          return;
        }
        for (const l of letters) {
          await writeLine(`dead letter ${l.id} of ${l.key} (projection ${l.projection})`);
          await writeLine(`  recorded  ${l.recordedAt.toISOString()} after ${l.attempts} attempt(s)`);
          await writeLine(`  error     ${l.error}`);
          if (l.stack !== undefined) await writeLine(indent(l.stack, '    '));
        }
        await writeLine('event');
        await writeLine(indent(formatEvent(event), '  '));
      });
    });
  deadLetters
    .command('retry')
    .description(
      "apply the event through the config's projection again, and remove its dead letter in the same transaction",
    )
    .argument('<id>', "the dead letter's id (see list), or the skipped event's id")
    .option('--projection <name>', 'when several projections skipped the event')
    .action(async (ref: string, options: { projection?: string }, command: Command) => {
      await withSession(command, { config: 'required', definitions: true }, async ({ store, config }) => {
        const letter = await letterOf(store, ref, options.projection);
        const event = await retryDeadLetter(store, projectionNamed(config!, letter.projection), letter);
        await writeLine(`applied ${event.type} ${event.id} to ${letter.key}; its dead letter is removed`);
      });
    });
  deadLetters
    .command('discard')
    .description('remove a dead letter without applying its event')
    .argument('<id>', "the dead letter's id (see list), or the skipped event's id")
    .option('--projection <name>', 'when several projections skipped the event')
    .action(async (ref: string, options: { projection?: string }, command: Command) => {
      await withSession(command, { config: 'optional', definitions: false }, async ({ store }) => {
        const letter = await letterOf(store, ref, options.projection);
        await discardDeadLetter(store, letter);
        await writeLine(`discarded the dead letter of ${letter.key} for event ${letter.eventId}`);
      });
    });
}

function letterJson(letter: StoredDeadLetter): Record<string, unknown> {
  return { ...letter, position: letter.position.toString(), recordedAt: letter.recordedAt.toISOString() };
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 100 ? `${line.slice(0, 97)}...` : line;
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => `${prefix}${line}`)
    .join('\n');
}
