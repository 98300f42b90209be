import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Aggregate, Apply, aggregateDefinition } from '../aggregate/aggregate-metadata.js';
import { AggregateRoot } from '../aggregate/aggregate-root.js';
import { CommandHandler, handledCommand } from '../command/command-handler.js';
import { defineCommand } from '../command/define-command.js';
import { hasErrorCode } from '../errors/annals-error.js';
import { defineEvent } from '../events/define-event.js';
import { InjectRepository } from '../tsyringe/inject-repository.js';

const Opened = defineEvent('Opened', { schema: z.object({ id: z.string() }) });
const Open = defineCommand('Open', z.object({ id: z.string() }));

/** Runs `call` and returns what it threw, failing the test when it threw nothing. */
function thrown(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  throw new Error('expected the decorator to throw, it returned normally');
}

/** Asserts a DECORATORS_NOT_CONFIGURED error whose message names the decorator and the fix. */
function expectSetupError(error: unknown, decorator: string, found: string): void {
  expect(
    hasErrorCode(error, 'DECORATORS_NOT_CONFIGURED'),
    `expected DECORATORS_NOT_CONFIGURED, got ${String(error)}`,
  ).toBe(true);
  const message = (error as Error).message;
  expect(message).toContain(decorator);
  expect(message).toContain(found);
  expect(message).toContain('"experimentalDecorators": true');
  expect(message).toContain("import 'reflect-metadata'");
}

describe('decorators compiled as TC39 standard decorators (no experimentalDecorators)', () => {
  it('@Apply says the setup is wrong instead of registering nothing', () => {
    const method = function onOpened() {};
    const context = { kind: 'method', name: 'onOpened', static: false, private: false };
    expectSetupError(
      thrown(() => (Apply(Opened) as Function)(method, context)),
      '@Apply(Opened)',
      "kind 'method'",
    );
  });

  it('@Aggregate says the setup is wrong', () => {
    class Account extends AggregateRoot {}
    const context = { kind: 'class', name: 'Account' };
    expectSetupError(
      thrown(() => (Aggregate('Account') as Function)(Account, context)),
      "@Aggregate('Account')",
      "kind 'class'",
    );
  });

  it('@CommandHandler says the setup is wrong', () => {
    class OpenHandler {
      execute() {}
    }
    const context = { kind: 'class', name: 'OpenHandler' };
    expectSetupError(
      thrown(() => (CommandHandler(Open) as Function)(OpenHandler, context)),
      '@CommandHandler(Open)',
      "kind 'class'",
    );
  });

  it('@InjectRepository says the setup is wrong', () => {
    @Aggregate('Ledger')
    class Ledger extends AggregateRoot {
      @Apply(Opened)
      protected onOpened() {}
    }
    class Handler {}
    const context = { kind: 'field', name: 'accounts' };
    expectSetupError(
      thrown(() => (InjectRepository(Ledger) as Function)(Handler, context, 0)),
      '@InjectRepository(Ledger)',
      "kind 'field'",
    );
  });
});

describe('reflect-metadata not loaded', () => {
  /** Runs `body` with `Reflect.defineMetadata` and `Reflect.getMetadata` removed, then puts them back. */
  function withoutPolyfill<T>(body: () => T): T {
    const reflect = Reflect as unknown as Record<string, unknown>;
    const saved = { defineMetadata: reflect.defineMetadata, getMetadata: reflect.getMetadata };
    try {
      delete reflect.defineMetadata;
      delete reflect.getMetadata;
      return body();
    } finally {
      Object.assign(reflect, saved);
    }
  }

  it('@Aggregate, @Apply and @CommandHandler work without the polyfill', () => {
    const { definition, handled } = withoutPolyfill(() => {
      @Aggregate('Wallet')
      class Wallet extends AggregateRoot {
        @Apply(Opened)
        protected onOpened() {}
      }
      @CommandHandler(Open)
      class OpenHandler {
        execute() {}
      }
      return { definition: aggregateDefinition(Wallet), handled: handledCommand(new OpenHandler()) };
    });
    expect(definition).toEqual({ type: 'Wallet', snapshotVersion: 1, events: [Opened] });
    expect(handled).toBe(Open);
  });

  it('@InjectRepository says the polyfill is missing', () => {
    @Aggregate('Vault')
    class Vault extends AggregateRoot {
      @Apply(Opened)
      protected onOpened() {}
    }
    class Handler {}
    const error = withoutPolyfill(() =>
      thrown(() => (InjectRepository(Vault) as Function)(Handler, undefined, 0)),
    );
    expectSetupError(error, '@InjectRepository(Vault)', 'reflect-metadata polyfill is not loaded');
  });
});

describe('decorators compiled as legacy decorators', () => {
  it('work as before', () => {
    expect(() => {
      @Aggregate('Cart')
      class Cart extends AggregateRoot {
        @Apply(Opened)
        protected onOpened() {}
      }
      return Cart;
    }).not.toThrow();
  });
});
