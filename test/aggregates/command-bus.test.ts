import {
  backoffDelay,
  CommandBus,
  type CommandContext,
  type CommandData,
  CommandHandler,
  type CommandMiddleware,
  CommandValidationFailed,
  ConcurrencyConflict,
  currentCommandContext,
  DuplicateHandler,
  type EventStore,
  HandlerNotFound,
  type Handles,
  InMemoryEventStore,
  InMemoryIdempotencyStore,
  InvalidArgument,
  idempotency,
  logging,
  Repositories,
  Repository,
  retryOnConcurrency,
  runInCommandContext,
} from '@annals/core';
import { AnnalsTokens, InjectRepository, registerAnnals } from '@annals/core/tsyringe';
import { toArray } from '@annals/testing';
import { container } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import {
  CloseAccount,
  Deposit,
  DepositHandler,
  OpenAccount,
  OpenAccountHandler,
  Withdraw,
  WithdrawHandler,
} from '../../examples/bank-account/src/application/commands.js';
import {
  BankAccount,
  bankEvents,
  OverdraftLimitExceeded,
} from '../../examples/bank-account/src/domain/index.js';

function eventsOf(store: EventStore, streamId = 'BankAccount-acc-1') {
  return toArray(store.readStream(streamId));
}

async function countAll(store: EventStore): Promise<number> {
  let n = 0;
  for await (const _ of store.readAll()) n++;
  return n;
}

function wired(options: { middleware?: CommandMiddleware[] } = {}) {
  // #region wiring
  const store = new InMemoryEventStore({ events: bankEvents, strict: true });
  const { bus } = registerAnnals(container.createChildContainer(), {
    store,
    snapshots: { every: 100 },
    handlers: [OpenAccountHandler, DepositHandler, WithdrawHandler],
  });
  // #endregion wiring
  for (const m of options.middleware ?? []) bus.use(m);
  return { store, bus };
}

describe('CommandBus with tsyringe', () => {
  it('resolves @CommandHandler classes and returns the handler result', async () => {
    const { store, bus } = wired();
    // #region execute
    await bus.execute(OpenAccount, { accountId: 'acc-1', owner: 'Ada' });
    const { balance } = await bus.execute(
      Deposit,
      { accountId: 'acc-1', amount: 100 },
      { commandId: 'cmd-42', correlationId: 'req-7' },
    );
    // #endregion execute
    expect(balance).toBe(100);
    const events = await eventsOf(store);
    expect(events.map((e) => e.type)).toEqual(['AccountOpened', 'MoneyDeposited']);
    // defaults applied
    expect(events[0]!.data).toEqual({ accountId: 'acc-1', owner: 'Ada', currency: 'EUR', overdraftLimit: 0 });
    expect(events[1]!.metadata).toEqual({ correlationId: 'req-7', causationId: 'cmd-42' });
  });

  it('registers the store, snapshot store, repositories and bus in the container', () => {
    const child = container.createChildContainer();
    const store = new InMemoryEventStore();
    const annals = registerAnnals(child, { store, snapshots: { every: 10 } });
    expect(child.resolve(AnnalsTokens.EventStore)).toBe(store);
    expect(child.resolve(AnnalsTokens.SnapshotStore)).toBe(annals.snapshotStore);
    expect(child.resolve(Repositories)).toBe(annals.repositories);
    expect(child.resolve(AnnalsTokens.CommandBus)).toBe(annals.bus);
    expect(child.resolve(CommandBus)).toBe(annals.bus);
    const handler = child.resolve(DepositHandler) as unknown as { accounts: Repository<BankAccount> };
    expect(handler.accounts).toBe(annals.repositories.get(BankAccount));
  });

  it('resolves handlers through explicit tokens when no decorator metadata was emitted (esbuild, tsx)', async () => {
    // What esbuild emits for `constructor(@InjectRepository(BankAccount) accounts)`: the parameter
    // decorator, then the class decorator, and no design:paramtypes.
    class BareDeposit implements Handles<typeof Deposit> {
      constructor(readonly accounts: Repository<BankAccount>) {}
      async execute(cmd: CommandData<typeof Deposit>) {
        const account = await this.accounts.load(cmd.accountId);
        account.deposit(cmd.amount);
        await this.accounts.save(account);
        return { balance: account.balance };
      }
    }
    InjectRepository(BankAccount)(BareDeposit, undefined, 0);
    CommandHandler(Deposit)(BareDeposit);
    expect(Reflect.getMetadata('design:paramtypes', BareDeposit)).toBeUndefined();

    const store = new InMemoryEventStore({ events: bankEvents });
    const { bus } = registerAnnals(container.createChildContainer(), {
      store,
      handlers: [OpenAccountHandler, BareDeposit],
    });
    await bus.execute(OpenAccount, { accountId: 'acc-1', owner: 'Ada' });
    expect(await bus.execute(Deposit, { accountId: 'acc-1', amount: 7 })).toEqual({ balance: 7 });
  });

  it('fails at start-up when two handlers are registered for one command', () => {
    @CommandHandler(Deposit)
    class OtherDepositHandler {
      execute() {
        return { balance: 0 };
      }
    }
    const store = new InMemoryEventStore();
    let error: unknown;
    try {
      registerAnnals(container.createChildContainer(), {
        store,
        handlers: [DepositHandler, OtherDepositHandler],
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DuplicateHandler);
    expect((error as DuplicateHandler).code).toBe('DUPLICATE_HANDLER');
    expect((error as Error).message).toBe(
      'Command Deposit is already handled by DepositHandler; OtherDepositHandler cannot handle it too: each command has exactly one handler.',
    );
    const accounts = new Repository(BankAccount, { store });
    expect(
      () => new CommandBus({ handlers: [new DepositHandler(accounts), new DepositHandler(accounts)] }),
    ).toThrow(DuplicateHandler);
  });
});

describe('CommandBus without a container', () => {
  function plain() {
    const store = new InMemoryEventStore({ events: bankEvents });
    // #region plain
    const accounts = new Repository(BankAccount, { store });
    const bus = new CommandBus({
      handlers: [new OpenAccountHandler(accounts), new DepositHandler(accounts)],
    });
    bus.register(new WithdrawHandler(accounts));
    // #endregion plain
    return { store, accounts, bus };
  }

  it('works with plain constructors and stamps correlation and causation ids the handler never saw', async () => {
    const { store, bus } = plain();
    // #region metadata
    const metadata = { userId: 'u-1' }; // free keys, stamped next to the ids
    await bus.execute(OpenAccount, { accountId: 'acc-1', owner: 'Ada' }, { commandId: 'c-1', metadata });
    const [opened] = await eventsOf(store);
    expect(opened!.metadata).toEqual({ correlationId: 'c-1', causationId: 'c-1', userId: 'u-1' });
    // #endregion metadata
    await bus.execute(Deposit, { accountId: 'acc-1', amount: 5 });
    const [, deposited] = await eventsOf(store);
    // generated: the command id is a UUID v7 and, for a root command, also the correlation id
    expect(deposited!.metadata.causationId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(deposited!.metadata.correlationId).toBe(deposited!.metadata.causationId);
  });

  it('a command executed by a handler inherits the correlation id; its events are caused by it', async () => {
    const store = new InMemoryEventStore({ events: bankEvents });
    const accounts = new Repository(BankAccount, { store });
    const bus = new CommandBus({
      handlers: [new OpenAccountHandler(accounts), new DepositHandler(accounts)],
    });
    @CommandHandler(CloseAccount)
    class GiveBonus {
      async execute(cmd: CommandData<typeof CloseAccount>) {
        await bus.execute(Deposit, { accountId: cmd.accountId, amount: 1 }, { commandId: 'inner' });
      }
    }
    bus.register(new GiveBonus());
    await bus.execute(OpenAccount, { accountId: 'acc-1', owner: 'Ada' });
    await bus.execute(CloseAccount, { accountId: 'acc-1' }, { commandId: 'outer', correlationId: 'req-1' });
    const deposit = (await eventsOf(store))[1]!;
    expect(deposit.metadata).toEqual({ correlationId: 'req-1', causationId: 'inner' });
  });

  it('the handler context is the current command context; runInCommandContext stamps saves outside the bus', async () => {
    const store = new InMemoryEventStore({ events: bankEvents });
    const accounts = new Repository(BankAccount, { store });
    let seen: { context: CommandContext; current: CommandContext | undefined } | undefined;
    @CommandHandler(CloseAccount)
    class Inspecting {
      execute(_cmd: CommandData<typeof CloseAccount>, context: CommandContext) {
        seen = { context, current: currentCommandContext() };
      }
    }
    const bus = new CommandBus({ handlers: [new Inspecting()] });
    await bus.execute(CloseAccount, { accountId: 'acc-1' }, { commandId: 'c-9' });
    expect(seen!.current).toBe(seen!.context);
    expect(seen!.context).toEqual({
      commandId: 'c-9',
      commandType: 'CloseAccount',
      correlationId: 'c-9',
      causationId: 'c-9',
      metadata: {},
    });
    expect(currentCommandContext()).toBeUndefined();

    const account = new BankAccount('acc-1');
    account.open('Ada', 'EUR', 0);
    await runInCommandContext(seen!.context, () => accounts.save(account));
    expect((await eventsOf(store))[0]!.metadata).toEqual({ correlationId: 'c-9', causationId: 'c-9' });
  });

  it('lists every validation issue with its path and runs nothing', async () => {
    const { store, bus } = plain();
    const error = await bus.execute(Deposit, { accountId: '', amount: -5 } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandValidationFailed);
    const { issues, code, message } = error as CommandValidationFailed;
    expect(code).toBe('COMMAND_VALIDATION_FAILED');
    expect(issues.map((i) => i.path)).toEqual([['accountId'], ['amount']]);
    expect(message).toMatch(/^Command Deposit is invalid: accountId: .+; amount: .+\.$/);
    expect(await countAll(store)).toBe(0);
  });

  it('HandlerNotFound names the command and what the bus handles', async () => {
    const bus = new CommandBus();
    await expect(bus.execute(CloseAccount, { accountId: 'acc-1' })).rejects.toThrow(HandlerNotFound);
    const { bus: other } = plain();
    await expect(other.execute(CloseAccount, { accountId: 'acc-1' })).rejects.toThrow(
      'No handler is registered for command CloseAccount; this bus handles OpenAccount, Deposit, Withdraw.',
    );
  });

  it('refuses handlers it cannot use', () => {
    const bus = new CommandBus();
    expect(() => bus.register({ execute() {} } as never)).toThrow(
      'Object is not a command handler: decorate its class with @CommandHandler(TheCommand).',
    );
    expect(() => bus.register(DepositHandler)).toThrow(
      'DepositHandler is a class and this bus has no container to resolve it',
    );
    expect(() => bus.use('nope' as never)).toThrow(InvalidArgument);
  });

  it('a domain error reaches the caller of execute unchanged and nothing is appended', async () => {
    const { store, bus } = plain();
    bus
      .use(logging({ info() {}, warn() {}, error() {} }))
      .use(idempotency())
      .use(retryOnConcurrency());
    await bus.execute(OpenAccount, { accountId: 'acc-1', owner: 'Ada', overdraftLimit: 50 });
    // #region domain-error
    const error = await bus.execute(Withdraw, { accountId: 'acc-1', amount: 80 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OverdraftLimitExceeded);
    // #endregion domain-error
    expect(error).toMatchObject({
      name: 'OverdraftLimitExceeded',
      message:
        'Withdrawing €0.80 from account acc-1 (balance €0.00) would exceed its overdraft limit of €0.50.',
    });
    expect((error as Error).cause).toBeUndefined();
    expect(await eventsOf(store)).toHaveLength(1);

    // the very object the handler threw, not a copy or a wrapper
    const thrown = new OverdraftLimitExceeded('acc-1', 0, 1, 0);
    @CommandHandler(CloseAccount)
    class Refusing {
      execute(): never {
        throw thrown;
      }
    }
    bus.register(new Refusing());
    await expect(bus.execute(CloseAccount, { accountId: 'acc-1' })).rejects.toBe(thrown);
  });
});

describe('middleware', () => {
  it('runs in registration order around the handler, seeing the command', async () => {
    const calls: string[] = [];
    // #region custom-middleware
    const trace =
      (name: string): CommandMiddleware =>
      async (execution, next) => {
        calls.push(`${name}>${execution.commandType}:${JSON.stringify(execution.data)}`);
        const result = await next();
        calls.push(`<${name}`);
        return result;
      };
    // #endregion custom-middleware
    const { bus } = wired({ middleware: [trace('a'), trace('b')] });
    await bus.execute(OpenAccount, { accountId: 'acc-1', owner: 'Ada' });
    expect(calls).toEqual([
      'a>OpenAccount:{"accountId":"acc-1","owner":"Ada","currency":"EUR","overdraftLimit":0}',
      'b>OpenAccount:{"accountId":"acc-1","owner":"Ada","currency":"EUR","overdraftLimit":0}',
      '<b',
      '<a',
    ]);
  });

  it('two commands racing on one aggregate: one retry, no lost update', async () => {
    const store = new InMemoryEventStore({ events: bankEvents });
    const accounts = new Repository(BankAccount, { store });
    let loads = 0;
    let bothLoaded!: () => void;
    const barrier = new Promise<void>((resolve) => (bothLoaded = resolve));
    // A deposit handler whose first two runs both load the account before either saves.
    @CommandHandler(Deposit)
    class RacingDeposit {
      async execute(cmd: CommandData<typeof Deposit>) {
        const account = await accounts.load(cmd.accountId);
        loads++;
        if (loads === 2) bothLoaded();
        if (loads <= 2) await barrier;
        account.deposit(cmd.amount);
        await accounts.save(account);
        return { balance: account.balance };
      }
    }
    const retries: { attempt: number; delayMs: number; error: unknown }[] = [];
    const bus = new CommandBus({ handlers: [new OpenAccountHandler(accounts), new RacingDeposit()] });
    // #region retry
    bus.use(
      retryOnConcurrency({
        maxAttempts: 3,
        initialDelayMs: 2,
        maxDelayMs: 50,
        jitter: 1,
        onRetry: ({ attempt, delayMs, error }) => retries.push({ attempt, delayMs, error }),
      }),
    );
    // #endregion retry
    await bus.execute(OpenAccount, { accountId: 'acc-1', owner: 'Ada' });
    const results = await Promise.all([
      bus.execute(Deposit, { accountId: 'acc-1', amount: 30 }),
      bus.execute(Deposit, { accountId: 'acc-1', amount: 12 }),
    ]);
    expect(retries).toHaveLength(1);
    expect(retries[0]!.attempt).toBe(1);
    expect(retries[0]!.error).toBeInstanceOf(ConcurrencyConflict);
    expect(retries[0]!.delayMs).toBeGreaterThanOrEqual(0);
    expect(retries[0]!.delayMs).toBeLessThanOrEqual(2);
    expect(loads).toBe(3);
    expect(results.map((r) => r.balance).sort()).toEqual([30, 42].sort());
    expect((await accounts.load('acc-1')).balance).toBe(42);
    expect((await eventsOf(store)).map((e) => e.type)).toEqual([
      'AccountOpened',
      'MoneyDeposited',
      'MoneyDeposited',
    ]);
  });

  it('retry gives up after maxAttempts with the last ConcurrencyConflict; other errors are not retried', async () => {
    let runs = 0;
    const conflict = new ConcurrencyConflict('BankAccount-acc-1', 1n, 2n);
    @CommandHandler(Deposit)
    class AlwaysConflicting {
      execute(): never {
        runs++;
        throw conflict;
      }
    }
    const delays: number[] = [];
    const bus = new CommandBus({ handlers: [new AlwaysConflicting()] }).use(
      retryOnConcurrency({
        maxAttempts: 4,
        initialDelayMs: 10,
        maxDelayMs: 25,
        jitter: 0,
        sleep: async (ms) => {
          delays.push(ms);
        },
      }),
    );
    await expect(bus.execute(Deposit, { accountId: 'acc-1', amount: 1 })).rejects.toBe(conflict);
    expect(runs).toBe(4);
    expect(delays).toEqual([10, 20, 25]);

    const { bus: domain } = wired({ middleware: [retryOnConcurrency({ sleep: async () => {} })] });
    await domain.execute(OpenAccount, { accountId: 'acc-1', owner: 'Ada' });
    await expect(domain.execute(Withdraw, { accountId: 'acc-1', amount: 1 })).rejects.toBeInstanceOf(
      OverdraftLimitExceeded,
    );
  });

  it('backoff is exponential, bounded and jittered', () => {
    const options = { initialDelayMs: 10, maxDelayMs: 100, factor: 2, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, options))).toEqual([10, 20, 40, 80, 100, 100]);
    expect(backoffDelay(3, { ...options, jitter: 1 }, () => 0.25)).toBe(30);
    expect(backoffDelay(3, { ...options, jitter: 0.5 }, () => 0.5)).toBe(30);
    expect(backoffDelay(9, { ...options, jitter: 1 }, () => 0.999999)).toBeGreaterThanOrEqual(0);
    expect(() => retryOnConcurrency({ maxAttempts: 0 })).toThrow(
      'maxAttempts must be an integer >= 1, found 0.',
    );
    expect(() => retryOnConcurrency({ jitter: 2 })).toThrow('jitter must be between 0 and 1, found 2.');
    expect(() => retryOnConcurrency({ initialDelayMs: -1 })).toThrow(InvalidArgument);
  });

  it('idempotency: a repeated command returns the first result and appends nothing', async () => {
    const records = new InMemoryIdempotencyStore();
    const { store, bus } = wired();
    // #region idempotency
    bus.use(idempotency({ store: records })).use(retryOnConcurrency());
    await bus.execute(OpenAccount, { accountId: 'acc-1', owner: 'Ada' }, { commandId: 'open-acc-1' });
    const first = await bus.execute(Deposit, { accountId: 'acc-1', amount: 10 }, { commandId: 'dep-1' });
    // the same command id again: not executed, the first result is returned, nothing is appended
    const again = await bus.execute(Deposit, { accountId: 'acc-1', amount: 10 }, { commandId: 'dep-1' });
    // #endregion idempotency
    expect(again).toBe(first);
    expect(first).toEqual({ balance: 10 });
    expect((await eventsOf(store)).map((e) => e.type)).toEqual(['AccountOpened', 'MoneyDeposited']);
    expect(records.size).toBe(2);

    await expect(
      bus.execute(Deposit, { accountId: 'acc-1', amount: 99 }, { commandId: 'dep-1' }),
    ).rejects.toThrow(
      'Command id dep-1 was already used by Deposit {"accountId":"acc-1","amount":10}; it cannot be reused for Deposit {"accountId":"acc-1","amount":99}.',
    );
    expect(await eventsOf(store)).toHaveLength(2);
  });

  it('idempotency: concurrent repeats run the handler once; a failed command is not remembered', async () => {
    const { store, bus } = wired({ middleware: [idempotency()] });
    await bus.execute(OpenAccount, { accountId: 'acc-1', owner: 'Ada' });
    const [a, b] = await Promise.all([
      bus.execute(Deposit, { accountId: 'acc-1', amount: 5 }, { commandId: 'dep-x' }),
      bus.execute(Deposit, { accountId: 'acc-1', amount: 5 }, { commandId: 'dep-x' }),
    ]);
    expect(a).toBe(b);
    expect(await eventsOf(store)).toHaveLength(2);

    await expect(
      bus.execute(Withdraw, { accountId: 'acc-1', amount: 20 }, { commandId: 'wd-1' }),
    ).rejects.toBeInstanceOf(OverdraftLimitExceeded);
    await bus.execute(Deposit, { accountId: 'acc-1', amount: 15 });
    expect(await bus.execute(Withdraw, { accountId: 'acc-1', amount: 20 }, { commandId: 'wd-1' })).toEqual({
      balance: 0,
    });
  });

  it('idempotency: a command without a command id runs each time it is sent and is not remembered', async () => {
    const records = new InMemoryIdempotencyStore();
    const seen: (boolean | undefined)[] = [];
    const { store, bus } = wired({
      middleware: [
        (execution, next) => {
          seen.push(execution.commandIdGenerated);
          return next();
        },
        idempotency({ store: records }),
      ],
    });
    await bus.execute(OpenAccount, { accountId: 'acc-1', owner: 'Ada' });
    expect(await bus.execute(Deposit, { accountId: 'acc-1', amount: 10 })).toEqual({ balance: 10 });
    expect(await bus.execute(Deposit, { accountId: 'acc-1', amount: 10 })).toEqual({ balance: 20 });
    expect(records.size).toBe(0);
    // The same command with an id given: it runs once, the repeat gets the first result.
    expect(await bus.execute(Deposit, { accountId: 'acc-1', amount: 10 }, { commandId: 'dep-1' })).toEqual({
      balance: 30,
    });
    expect(await bus.execute(Deposit, { accountId: 'acc-1', amount: 10 }, { commandId: 'dep-1' })).toEqual({
      balance: 30,
    });
    expect(records.size).toBe(1);
    expect((await eventsOf(store)).map((e) => e.type)).toEqual([
      'AccountOpened',
      'MoneyDeposited',
      'MoneyDeposited',
      'MoneyDeposited',
    ]);
    expect(seen).toEqual([true, true, true, false, false]);
  });

  it('logging: a logger that says info is off gets no success line, still every failure', async () => {
    const lines: string[] = [];
    let infoOn = false;
    const logger = {
      isLevelEnabled: (level: string) => level !== 'info' || infoOn,
      info: (_details: Record<string, unknown>, message: string) => lines.push(`info ${message}`),
      warn: (_details: Record<string, unknown>, message: string) => lines.push(`warn ${message}`),
      error: (_details: Record<string, unknown>, message: string) => lines.push(`error ${message}`),
    };
    const { bus } = wired({ middleware: [logging(logger)] });
    await bus.execute(OpenAccount, { accountId: 'acc-1', owner: 'Ada' });
    await expect(bus.execute(Withdraw, { accountId: 'acc-1', amount: 1 })).rejects.toBeInstanceOf(
      OverdraftLimitExceeded,
    );
    infoOn = true;
    await bus.execute(Deposit, { accountId: 'acc-1', amount: 1 });
    expect(lines).toEqual([
      'error Command Withdraw failed: Withdrawing €0.01 from account acc-1 (balance €0.00) would exceed its overdraft limit of €0.00.',
      'info Command Deposit succeeded',
    ]);
  });

  it('logging: one info line per success, one error line per failure, with ids', async () => {
    const lines: [string, string, Record<string, unknown> | undefined][] = [];
    const logger = {
      info: (details: Record<string, unknown>, message: string) => lines.push(['info', message, details]),
      warn: (details: Record<string, unknown>, message: string) => lines.push(['warn', message, details]),
      error: (details: Record<string, unknown>, message: string) => lines.push(['error', message, details]),
    };
    const { bus } = wired({ middleware: [logging(logger)] });
    await bus.execute(
      OpenAccount,
      { accountId: 'acc-1', owner: 'Ada' },
      { commandId: 'c-1', correlationId: 'r-1' },
    );
    await bus
      .execute(Withdraw, { accountId: 'acc-1', amount: 1 }, { commandId: 'c-2' })
      .catch(() => undefined);
    expect(lines.map(([level, message]) => [level, message])).toEqual([
      ['info', 'Command OpenAccount succeeded'],
      [
        'error',
        'Command Withdraw failed: Withdrawing €0.01 from account acc-1 (balance €0.00) would exceed its overdraft limit of €0.00.',
      ],
    ]);
    expect(lines[0]![2]).toMatchObject({
      commandType: 'OpenAccount',
      commandId: 'c-1',
      correlationId: 'r-1',
    });
    expect(lines[1]![2]).toMatchObject({ commandId: 'c-2', err: expect.any(OverdraftLimitExceeded) });
    expect(typeof lines[0]![2]!.durationMs).toBe('number');
  });
});
