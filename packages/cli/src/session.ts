import type { PostgresEventStore } from '@annals/postgres';
import type { Command } from 'commander';
import { type LoadedConfig, loadConfig } from './config.js';
import { type GlobalOptions, openStore } from './connect.js';

/** What a command needs from its config module. */
export type ConfigNeed = 'none' | 'optional' | 'required';

/** A command's store and config, opened for one run. */
export interface Session {
  readonly store: PostgresEventStore;
  readonly config: LoadedConfig | undefined;
}

/** The global options as given, and whether `--database-url` came from the command line. */
export function globalOptions(command: Command): GlobalOptions & { readonly databaseUrlFromCli: boolean } {
  let root = command;
  while (root.parent !== null) root = root.parent;
  const options = root.opts<GlobalOptions>();
  return { ...options, databaseUrlFromCli: root.getOptionValueSource('databaseUrl') === 'cli' };
}

/**
 * Loads the config (as `need` says), opens the store (with the config's definitions when
 * `definitions`), runs `work`, and closes the store whatever happens.
 */
export async function withSession<T>(
  command: Command,
  need: { readonly config: ConfigNeed; readonly definitions: boolean },
  work: (session: Session) => Promise<T>,
): Promise<T> {
  const options = globalOptions(command);
  const config =
    need.config === 'none' ? undefined : await loadConfig(options.config, need.config === 'required');
  const store = await openStore(options, config, need.definitions);
  try {
    return await work({ store, config });
  } finally {
    await store.close({ drainTimeoutMs: 0 });
  }
}
