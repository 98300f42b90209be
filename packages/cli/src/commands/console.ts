import { type ConsoleToken, createConsole, generateToken, serveConsole } from '@annals/console';
import { InvalidArgument } from '@annals/core';
import type { Command } from 'commander';
import { writeLine } from '../output.js';
import { withSession } from '../session.js';

interface ConsoleCommandOptions {
  port: number;
  host: string;
  allowActions?: boolean;
  token?: string[];
}

/** `annals console [--port] [--host] [--allow-actions [--token label=secret...]]`. */
export function registerConsole(program: Command): void {
  program
    .command('console')
    .description(
      'serve the web console (streams, live log, projections, dead letters, health) until Ctrl-C; read-only unless --allow-actions',
    )
    .option('--port <n>', 'port to listen on (0: any free port)', portOption, 4300)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option(
      '--allow-actions',
      'allow rebuild, pause, resume, dead-letter retry and discard to requests that send a token',
    )
    .option(
      '--token <label=secret...>',
      'a token actions accept, with the label the action log gives its holder (default: one generated and printed); also ANNALS_CONSOLE_TOKEN',
    )
    .action(async (options: ConsoleCommandOptions, command: Command) => {
      const tokens = tokensOf(options);
      await withSession(command, { config: 'optional', definitions: true }, async ({ store, config }) => {
        const web = await createConsole({
          store,
          projections: config?.config.projections ?? [],
          aggregates: config?.config.aggregates ?? [],
          ...(config?.config.streamId === undefined ? {} : { streamId: config.config.streamId }),
          tokens: tokens.list,
          logger: jsonLogger,
        });
        const served = await serveConsole(web, { port: options.port, hostname: options.host });
        await writeLine(
          `annals console on ${served.url} (schema ${store.schema}${config ? `, config ${config.path}` : ''})`,
        );
        if (tokens.list.length === 0)
          await writeLine('read-only: start with --allow-actions to allow actions');
        else if (tokens.generated !== undefined)
          await writeLine(
            `actions allowed with the token ${tokens.generated.secret} (label ${tokens.generated.label})`,
          );
        else
          await writeLine(
            `actions allowed with the token(s) of ${tokens.list.map((t) => t.label).join(', ')}`,
          );
        await writeLine('Ctrl-C stops');
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            resolve();
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await served.close();
      });
    });
}

/** The tokens actions accept: none without --allow-actions; else those given, or one generated. */
function tokensOf(options: ConsoleCommandOptions): { list: ConsoleToken[]; generated?: ConsoleToken } {
  const given = [...(options.token ?? [])];
  const fromEnv = process.env.ANNALS_CONSOLE_TOKEN;
  if (fromEnv !== undefined && fromEnv !== '') given.push(fromEnv);
  if (options.allowActions !== true) {
    if (options.token !== undefined) {
      throw new InvalidArgument('--token is only used with --allow-actions; add it, or drop --token.');
    }
    return { list: [] };
  }
  if (given.length === 0) {
    const generated = generateToken('console');
    return { list: [generated], generated };
  }
  return {
    list: given.map((text) => {
      const at = text.indexOf('=');
      return at <= 0
        ? { label: 'token', secret: text }
        : { label: text.slice(0, at), secret: text.slice(at + 1) };
    }),
  };
}

function portOption(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) {
    throw new InvalidArgument(
      `--port expects a port number from 0 to 65535, found ${JSON.stringify(value)}.`,
    );
  }
  return n;
}

/** Logs each action as one JSON line on stderr. */
const jsonLogger = {
  info(message: string, details?: Record<string, unknown>) {
    process.stderr.write(`${JSON.stringify({ level: 'info', message, ...details })}\n`);
  },
  error(message: string, details?: Record<string, unknown>) {
    process.stderr.write(`${JSON.stringify({ level: 'error', message, ...details })}\n`);
  },
};
