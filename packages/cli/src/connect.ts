import { InvalidArgument } from '@annals/core';
import {
  type PostgresConnectionOptions,
  PostgresEventStore,
  type PostgresEventStoreOptions,
} from '@annals/postgres';
import type { LoadedConfig } from './config.js';

/** The options every command takes: where the store is, and which config to load. */
export interface GlobalOptions {
  /** `--database-url`, or `DATABASE_URL`. */
  readonly databaseUrl?: string;
  /** `--data`: a PGlite data folder. */
  readonly data?: string;
  /** `--schema`. */
  readonly schema?: string;
  /** `--config`. */
  readonly config?: string;
}

/**
 * Where the store is: `--data` (PGlite), else `--database-url` / `DATABASE_URL`, else the config's
 * `connection`. `--data` wins over `DATABASE_URL` from the environment, but not over an explicit
 * `--database-url`: giving both is refused.
 */
export function connectionOf(
  options: GlobalOptions & { readonly databaseUrlFromCli?: boolean },
  config: LoadedConfig | undefined,
): PostgresConnectionOptions {
  if (options.data !== undefined) {
    if (options.databaseUrlFromCli === true) {
      throw new InvalidArgument('Give either --data (a PGlite folder) or --database-url, not both.');
    }
    return { pglite: options.data };
  }
  if (options.databaseUrl !== undefined && options.databaseUrl !== '') {
    return { connectionString: options.databaseUrl };
  }
  if (config?.config.connection !== undefined) return config.config.connection;
  throw new InvalidArgument(
    'Where is the store? Give --database-url <url> (or set DATABASE_URL) for a server, or --data <folder> for PGlite.',
  );
}

/**
 * Opens the store. `definitions: false` opens it without the config's definitions and upcasters:
 * every event reads as stored (type, version, data), as export, import, tail and show need.
 */
export async function openStore(
  options: GlobalOptions & { readonly databaseUrlFromCli?: boolean },
  config: LoadedConfig | undefined,
  definitions: boolean,
): Promise<PostgresEventStore> {
  const fromConfig: PostgresEventStoreOptions = config?.config.store ?? {};
  const storeOptions: PostgresEventStoreOptions = definitions
    ? fromConfig
    : {
        ...(fromConfig.schema === undefined ? {} : { schema: fromConfig.schema }),
        ...(fromConfig.maxEventBytes === undefined ? {} : { maxEventBytes: fromConfig.maxEventBytes }),
      };
  const schema = options.schema ?? storeOptions.schema;
  return PostgresEventStore.create(connectionOf(options, config), {
    ...storeOptions,
    ...(schema === undefined ? {} : { schema }),
  });
}
