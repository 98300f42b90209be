import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCommand } from '../command/define-command.js';
import { ConcurrencyConflict, InvalidArgument } from '../errors/store-errors.js';
import { defineEvent } from '../events/define-event.js';
import type { RecordedEvent } from '../events/event-types.js';
import { ManualClock } from './clock.js';
import { defaultIsRejection, defineProcessManager } from './define-process-manager.js';
import { ProcessManagerDefinitionInvalid } from './process-errors.js';
import { ReactionRecorder } from './reaction-recorder.js';

const Placed = defineEvent('Placed', { schema: z.object({ orderId: z.string() }) });
const Ship = defineCommand('Ship', z.object({ orderId: z.string() }));
const valid = {
  name: 'orders',
  events: [Placed],
  correlate: (e: { data: { orderId: string } }) => e.data.orderId,
  initialState: () => ({}),
  timers: { Reminder: () => {} },
};

function refused(options: unknown): ProcessManagerDefinitionInvalid {
  try {
    defineProcessManager(options as never);
  } catch (error) {
    expect(error).toBeInstanceOf(ProcessManagerDefinitionInvalid);
    expect((error as ProcessManagerDefinitionInvalid).code).toBe('PROCESS_MANAGER_DEFINITION_INVALID');
    return error as ProcessManagerDefinitionInvalid;
  }
  throw new Error(`defineProcessManager accepted ${JSON.stringify(options)}`);
}

describe('defineProcessManager', () => {
  it('refuses a malformed definition with ProcessManagerDefinitionInvalid saying what was found', () => {
    expect(refused(null).message).toContain('found null');
    expect(refused({ ...valid, name: '' }).message).toContain('name must be a non-empty string');
    expect(refused({ ...valid, events: [] }).message).toContain('found an empty array');
    expect(refused({ ...valid, correlate: 'orderId' }).message).toContain(
      'correlate must be a function, found string',
    );
    expect(refused({ ...valid, react: { Shipped: () => {} } }).message).toContain(
      'react has a key Shipped, which is not among its events (Placed)',
    );
    expect(refused({ ...valid, timers: { Reminder: 5 } }).message).toContain(
      'timers.Reminder must be a function, found number',
    );
    expect(refused({ ...valid, compensate: {} }).message).toContain(
      'compensate must be a function when given',
    );
  });

  it('refuses a correlation key that is not a non-empty string, naming the event', () => {
    const pm = defineProcessManager({ ...valid, correlate: () => '' });
    const event = { id: 'e-1', type: 'Placed', data: { orderId: '' } } as RecordedEvent;
    expect(() => pm.correlate(event)).toThrow(/for Placed e-1 it returned ""/);
  });

  it('treats infrastructure errors as trouble to retry and any other error as a rejection, by default', () => {
    expect(defaultIsRejection(new Error('Account closed'))).toBe(true);
    expect(defaultIsRejection(new InvalidArgument('bad'))).toBe(true);
    expect(defaultIsRejection(new ConcurrencyConflict('s', 1n, 2n))).toBe(false);
  });

  it('records what a reaction does; refuses a timer without a handler and a bad schedule', () => {
    const pm = defineProcessManager(valid);
    const ctx = new ReactionRecorder(pm, 'o-1', new Date(new ManualClock(0).now()));
    ctx.send(Ship, { orderId: 'o-1' });
    ctx.schedule({ after: 1000 }, { type: 'Reminder', n: 1 });
    ctx.schedule({ at: new Date(5000) }, { type: 'Reminder', n: 2 });
    ctx.cancel('Reminder');
    ctx.complete();
    expect(ctx.commands.map((c) => [c.command.type, c.data])).toEqual([['Ship', { orderId: 'o-1' }]]);
    expect(ctx.timers).toEqual([
      { op: 'schedule', name: 'Reminder', dueAt: new Date(1000), message: { type: 'Reminder', n: 1 } },
      { op: 'schedule', name: 'Reminder', dueAt: new Date(5000), message: { type: 'Reminder', n: 2 } },
      { op: 'cancel', name: 'Reminder' },
    ]);
    expect(ctx.completed).toBe(true);
    expect(() => ctx.schedule({ after: 1 }, { type: 'Unknown' })).toThrow(ProcessManagerDefinitionInvalid);
    expect(() => ctx.schedule({ after: -1 }, { type: 'Reminder' })).toThrow(InvalidArgument);
    expect(() => ctx.schedule({ at: new Date(Number.NaN) }, { type: 'Reminder' })).toThrow(InvalidArgument);
    expect(() => ctx.send({} as never, {} as never)).toThrow(InvalidArgument);
  });
});
