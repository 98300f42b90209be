import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Imports the given entries, in order, in a fresh Node process (vitest's own setup loads
 * reflect-metadata, so only a process of its own shows what an entry does to the global `Reflect`)
 * and prints whether `Reflect.getMetadata` exists after each.
 */
function reflectAfterImporting(entries: readonly string[], body = ''): string {
  const code = [
    ...entries.map(
      (entry) =>
        `await import(${JSON.stringify(`./packages/core/src/${entry}`)}); console.log(${JSON.stringify(entry)}, typeof Reflect.getMetadata);`,
    ),
    body,
  ].join('\n');
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: root,
    encoding: 'utf8',
  });
}

describe('entry points', () => {
  it('@annals/core and @annals/core/adapter leave the global Reflect alone; @annals/core/tsyringe loads reflect-metadata', () => {
    const output = reflectAfterImporting(['index.ts', 'adapter/index.ts', 'tsyringe/index.ts']);
    expect(output.trim().split('\n')).toEqual([
      'index.ts undefined',
      'adapter/index.ts undefined',
      'tsyringe/index.ts function',
    ]);
  });

  it('aggregates, handlers and a command bus work with plain constructors and no container', () => {
    const output = reflectAfterImporting(
      ['index.ts'],
      `
      const { Aggregate, AggregateRoot, Apply, CommandBus, CommandHandler, InMemoryEventStore, Repository, defineCommand, defineEvent } = await import('./packages/core/src/index.ts');
      const { z } = await import('zod');
      const Opened = defineEvent('Opened', { schema: z.object({ id: z.string() }) });
      const Open = defineCommand('Open', z.object({ id: z.string() }));
      class Account extends AggregateRoot {
        opened = false;
        open(id) { this.raise(Opened, { id }); }
        onOpened() { this.opened = true; }
      }
      Apply(Opened)(Account.prototype, 'onOpened', Object.getOwnPropertyDescriptor(Account.prototype, 'onOpened'));
      Aggregate('Account')(Account);
      const store = new InMemoryEventStore({ events: [Opened] });
      const accounts = new Repository(Account, { store });
      class OpenHandler {
        async execute(command) { const a = new Account(command.id); a.open(command.id); await accounts.save(a); }
      }
      CommandHandler(Open)(OpenHandler);
      const bus = new CommandBus({ handlers: [new OpenHandler()] });
      await bus.execute(Open, { id: 'a-1' });
      console.log('opened', (await accounts.load('a-1')).opened, typeof Reflect.getMetadata);
      `,
    );
    expect(output.trim().split('\n').at(-1)).toBe('opened true undefined');
  });
});
