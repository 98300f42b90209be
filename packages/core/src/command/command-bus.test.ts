import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Aggregate, Apply } from '../aggregate/aggregate-metadata.js';
import { AggregateRoot } from '../aggregate/aggregate-root.js';
import { ConcurrencyConflict, InvalidArgument } from '../errors/store-errors.js';
import { defineEvent } from '../events/define-event.js';
import { Repository } from '../repository/repository.js';
import { InMemoryEventStore } from '../store/in-memory-event-store.js';
import { CommandBus, type CommandExecution } from './command-bus.js';
import { CommandValidationFailed } from './command-errors.js';
import { CommandHandler, type Handles } from './command-handler.js';
import { type CommandData, defineCommand } from './define-command.js';
import { idempotency, logging, retryOnConcurrency } from './middleware/index.js';

const parses = { count: 0 };
const Added = defineEvent('Added', {
  schema: z.object({ amount: z.number().int() }).refine(() => ++parses.count > 0),
});

@Aggregate('Tally')
class Tally extends AggregateRoot {
  total = 0;
  add(amount: number) {
    this.raise(Added, { amount });
  }
  @Apply(Added)
  protected onAdded(e: { amount: number }) {
    this.total += e.amount;
  }
}

const Add = defineCommand('Add', z.object({ id: z.string(), amount: z.number().int() }));

@CommandHandler(Add)
class AddHandler implements Handles<typeof Add> {
  constructor(private readonly tallies: Repository<Tally>) {}
  async execute(cmd: CommandData<typeof Add>) {
    const tally = await this.tallies.load(cmd.id).catch(() => new Tally(cmd.id));
    tally.add(cmd.amount);
    await this.tallies.save(tally);
    return tally.total;
  }
}

const execution = { commandType: 'Add', commandId: 'c-1', correlationId: 'c-1' } as CommandExecution;

describe('CommandBus', () => {
  it('reports every failure as a rejection, never as a synchronous throw', async () => {
    const bus = new CommandBus({
      handlers: [new AddHandler(new Repository(Tally, { store: new InMemoryEventStore() }))],
    });
    const invalid = bus.execute(Add, { id: 'x', amount: 'one' } as never);
    expect(invalid).toBeInstanceOf(Promise);
    await expect(invalid).rejects.toBeInstanceOf(CommandValidationFailed);
    await expect(bus.execute({} as never, {} as never)).rejects.toBeInstanceOf(InvalidArgument);
    await expect(bus.execute(Add, { id: 'x', amount: 1 }, { commandId: '' })).rejects.toBeInstanceOf(
      InvalidArgument,
    );
  });

  it('validates an event once per command, stores it with the command ids, loads it back', async () => {
    const store = new InMemoryEventStore({ events: [Added] });
    const bus = new CommandBus({ handlers: [new AddHandler(new Repository(Tally, { store }))] }).use(
      retryOnConcurrency(),
    );
    parses.count = 0;
    await bus.execute(Add, { id: 't-1', amount: 2 }, { commandId: 'cmd-1', correlationId: 'corr-1' });
    expect(parses.count).toBe(1);
    expect(await bus.execute(Add, { id: 't-1', amount: 3 }, { commandId: 'cmd-2' })).toBe(5);
    expect(parses.count).toBe(2);
    const events = [];
    for await (const e of store.readStream('Tally-t-1')) events.push(e);
    expect(events.map((e) => e.metadata)).toEqual([
      { correlationId: 'corr-1', causationId: 'cmd-1' },
      { correlationId: 'cmd-2', causationId: 'cmd-2' },
    ]);
  });

  it('a middleware added while a command runs applies from the next command on', async () => {
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const bus = new CommandBus({
      handlers: [new AddHandler(new Repository(Tally, { store: new InMemoryEventStore() }))],
    }).use(async (_e, next) => {
      await gate;
      return next();
    });
    const first = bus.execute(Add, { id: 'a', amount: 1 });
    bus.use(async (e, next) => {
      seen.push(e.commandId);
      return next();
    });
    release();
    await first;
    await bus.execute(Add, { id: 'a', amount: 1 }, { commandId: 'second' });
    expect(seen).toEqual(['second']);
  });
});

describe('middleware given a next() that throws instead of rejecting', () => {
  it('logging logs the failure and rejects', async () => {
    const lines: string[] = [];
    const logger = {
      info: (_: object, m: string) => lines.push(m),
      warn: (_: object, m: string) => lines.push(m),
      error: (_: object, m: string) => lines.push(m),
    };
    await expect(
      logging(logger)(execution, () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(lines).toEqual(['Command Add failed: boom']);
  });

  it('retryOnConcurrency retries it', async () => {
    let calls = 0;
    const result = await retryOnConcurrency({ sleep: async () => {} })(execution, () => {
      if (++calls < 3) throw new ConcurrencyConflict('s', 0n, 1n);
      return Promise.resolve('done');
    });
    expect(result).toBe('done');
    expect(calls).toBe(3);
  });

  it('idempotency rejects and remembers nothing', async () => {
    const middleware = idempotency();
    await expect(
      middleware(execution, () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await middleware(execution, async () => 'second try')).toBe('second try');
  });
});

describe('idempotency fingerprints', () => {
  it('tell bigint payloads apart and accept an identical repeat', async () => {
    const middleware = idempotency();
    const withAmount = (amount: bigint) => ({ ...execution, data: { amount } }) as CommandExecution;
    expect(await middleware(withAmount(1n), async () => 'first')).toBe('first');
    expect(await middleware(withAmount(1n), async () => 'again')).toBe('first');
    await expect(middleware(withAmount(2n), async () => 'other')).rejects.toThrow(/"amount":"2n"/);
  });
});
