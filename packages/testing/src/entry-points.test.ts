import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Module hooks for a process of its own in which `tsyringe` and `reflect-metadata` cannot be
 * resolved, as for a user who installed neither (vitest's own setup loads reflect-metadata, so only
 * a fresh process shows what importing the kit needs).
 */
const WITHOUT_TSYRINGE = `
export async function resolve(specifier, context, next) {
  if (/^(tsyringe|reflect-metadata)(\\/|$)/.test(specifier)) {
    const error = new Error(\`Cannot find package '\${specifier}' imported from \${context.parentURL}\`);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}`;

/** Runs `body` (an ES module) in a fresh Node process where tsyringe and reflect-metadata are missing. */
function runWithoutTsyringe(body: string): string {
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(WITHOUT_TSYRINGE)}`)});`;
  return execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      `data:text/javascript,${encodeURIComponent(register)}`,
      '--input-type=module',
      '-e',
      body,
    ],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

describe('@annals/testing without tsyringe', () => {
  it('imports, and runs a CommandSpec with handler instances, where tsyringe and reflect-metadata cannot be resolved', () => {
    const output = runWithoutTsyringe(`
      const { z } = await import('zod');
      const { CommandHandler, defineCommand, defineEvent } = await import('@annals/core');
      for (const hidden of ['tsyringe', 'reflect-metadata', '@annals/core/tsyringe']) {
        const error = await import(hidden).then(() => undefined, (e) => e);
        console.log(hidden, error?.code ?? 'resolved');
      }
      const { CommandSpec } = await import('./packages/testing/src/index.ts');
      const Opened = defineEvent('Opened', { schema: z.object({ id: z.string() }) });
      const Open = defineCommand('Open', z.object({ id: z.string() }));
      class OpenHandler {
        constructor(store) { this.store = store; }
        async execute(command) { await this.store.append('account-' + command.id, [Opened.create({ id: command.id })]); }
      }
      CommandHandler(Open)(OpenHandler);
      const spec = CommandSpec.for({ events: [Opened], handlers: ({ store }) => [new OpenHandler(store)] });
      const outcome = await spec.when(Open, { id: 'a-1' }).then([{ streamId: 'account-a-1', ...Opened.create({ id: 'a-1' }) }]);
      console.log('appended', outcome.events.map((e) => e.type).join(','), typeof Reflect.getMetadata);
      const refused = await CommandSpec.for({ events: [Opened], container: { createChildContainer: () => ({}) }, handlers: [] })
        .when(Open, { id: 'a-2' })
        .thenNothingHappened()
        .then(() => 'no error', (e) => e.message);
      console.log(refused);
    `);
    const lines = output.trim().split('\n');
    expect(lines.slice(0, 3), 'the hook hides tsyringe, reflect-metadata and the tsyringe entry').toEqual([
      'tsyringe ERR_MODULE_NOT_FOUND',
      'reflect-metadata ERR_MODULE_NOT_FOUND',
      '@annals/core/tsyringe ERR_MODULE_NOT_FOUND',
    ]);
    expect(lines[3], 'the kit loads and a spec without a container runs').toBe('appended Opened undefined');
    expect(lines[4], 'a spec with a container says what to install').toMatch(
      /^CommandSpec: the container option resolves handlers with tsyringe, .*install tsyringe and reflect-metadata.*Cannot find package '(tsyringe|reflect-metadata)'/,
    );
  });
});
