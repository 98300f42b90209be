import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PostgresEventStore } from '@annals/postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseUrl, fixtureConfig, jsonLines, runCli, serverSchema } from './support/cli.js';

// The interactive side of `annals projections rebuild`, under a real terminal: tmux gives the
// command a pseudo-terminal, so stderr is a TTY (the progress bar shows) and Ctrl-C is a key press.
const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const tmux = await run('tmux', ['-V']).then(
  () => true,
  () => false,
);

const schemas: ReturnType<typeof serverSchema>[] = [];
afterAll(async () => {
  for (const schema of schemas) await schema.drop();
});

/** A schema with `count` events the fixture config's `item-counts` projection handles. */
async function seededSchema(count: number): Promise<string> {
  const schema = serverSchema();
  schemas.push(schema);
  const migrated = await runCli(['--schema', schema.name, 'migrate'], { env: { DATABASE_URL: databaseUrl } });
  expect(migrated.code, migrated.stderr).toBe(0);
  const store = await PostgresEventStore.create({ connectionString: databaseUrl! }, { schema: schema.name });
  try {
    for (let i = 0; i < count; i++) {
      await store.append(`cart-${i}`, [
        { type: 'ItemAdded', schemaVersion: 2, data: { sku: 's', quantity: 1 } },
      ]);
    }
  } finally {
    await store.close();
  }
  return schema.name;
}

/** A tmux session running one shell command; the pane stays after the command ends. */
class TmuxSession {
  readonly name = `annals-${randomUUID().slice(0, 8)}`;

  async start(command: string, env: Record<string, string>): Promise<void> {
    const exports = Object.entries(env)
      .map(([key, value]) => `export ${key}='${value}';`)
      .join(' ');
    // The exit code is printed after the command, then the shell waits so the pane can be read.
    const script = `cd '${root}'; ${exports} ${command}; echo "annals-exit=$?"; sleep 3600`;
    await run('tmux', ['new-session', '-d', '-s', this.name, '-x', '200', '-y', '50', script]);
  }

  /** What the terminal shows, scrollback included. */
  async screen(): Promise<string> {
    const { stdout } = await run('tmux', ['capture-pane', '-p', '-J', '-S', '-200', '-t', this.name]);
    return stdout;
  }

  async keys(...keys: string[]): Promise<void> {
    await run('tmux', ['send-keys', '-t', this.name, ...keys]);
  }

  /** Polls the screen until `condition` holds; the bound only stops a hang. */
  async waitFor(what: string, condition: (screen: string) => boolean, boundMs = 300_000): Promise<string> {
    const deadline = Date.now() + boundMs;
    for (;;) {
      const screen = await this.screen();
      if (condition(screen)) return screen;
      if (Date.now() > deadline)
        throw new Error(`gave up waiting until ${what}; the terminal shows:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async kill(): Promise<void> {
    await run('tmux', ['kill-session', '-t', this.name]).catch(() => undefined);
  }
}

const annals = `'${process.execPath}' --import '${import.meta.resolve('tsx')}' '${join(root, 'packages/cli/src/main.ts')}'`;

describe.skipIf(databaseUrl === undefined || !tmux)(
  'annals projections rebuild in a terminal (tmux)',
  { timeout: 600_000 },
  () => {
    it('shows a progress bar with rate and ETA on the terminal, and Ctrl-C stops it cleanly with exit code 130', async () => {
      const schema = await seededSchema(40);
      const session = new TmuxSession();
      try {
        await session.start(`${annals} --config '${fixtureConfig}' projections rebuild item-counts`, {
          DATABASE_URL: databaseUrl!,
          ANNALS_SCHEMA: schema,
          TSX_TSCONFIG_PATH: join(root, 'tsconfig.json'),
          // The events after the first batch wait for Ctrl-C: the rebuild is mid-log when the key is pressed.
          CLI_HOLD_AFTER: '5',
        });
        const bar = /item-counts \[[^\]]*\] \d+% \| (\d+)\/40 events \| \d+ ev\/s \| ETA \S+/;
        const shown = await session.waitFor('the progress bar shows events done', (screen) => {
          const match = bar.exec(screen);
          return match !== null && Number(match[1]) > 0;
        });
        expect(shown).toMatch(bar);
        await session.keys('C-c');
        const screen = await session.waitFor('the command exits', (s) => /annals-exit=\d+/.test(s));
        expect(screen, 'the exit code of an interrupted rebuild').toContain('annals-exit=130');
        expect(screen).toMatch(/stopped item-counts at position \d+, \d+ event\(s\) still to apply/);
      } finally {
        await session.kill();
      }
    });

    it('prints no progress bar when stderr is not a terminal (piped), only the result', async () => {
      const schema = await seededSchema(5);
      const result = await runCli(
        ['--config', fixtureConfig, 'projections', 'rebuild', 'item-counts', '--json'],
        {
          env: { DATABASE_URL: databaseUrl, ANNALS_SCHEMA: schema },
        },
      );
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr, 'no bar on a pipe').not.toMatch(/ev\/s|ETA/);
      expect(jsonLines(result.stdout).length, result.stdout).toBeGreaterThan(0);
    });
  },
);
