import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type AggregateClass, InvalidArgument, type Projection, type StreamIdStrategy } from '@annals/core';
import type {
  PostgresConnectionOptions,
  PostgresEventStoreOptions,
  PostgresProjectionContext,
} from '@annals/postgres';
import { createJiti } from 'jiti';

/**
 * What an `annals.config.ts` (or `.js`, `.mjs`) exports, as its default export or as `config`: the
 * store options the application opens its store with (event definitions, upcasters, schema...), its
 * projections, and optionally where the store is when neither `--database-url`, `DATABASE_URL` nor
 * `--data` says.
 *
 * @example
 * ```ts
 * import { defineConfig } from '@annals/cli';
 * export default defineConfig({
 *   store: { events: [AccountOpened, MoneyDeposited], upcasters },
 *   projections: [AccountBalances],
 * });
 * ```
 */
export interface AnnalsConfig {
  /** Options of `PostgresEventStore.create` (events, upcasters, strict, schema...). */
  readonly store?: PostgresEventStoreOptions;
  /** The projections `annals projections rebuild` and `annals dead-letters retry` run. */
  readonly projections?: readonly Projection<PostgresProjectionContext>[];
  /** Where the store is, when the command line and the environment do not say. */
  readonly connection?: PostgresConnectionOptions;
  /** The aggregates whose state `annals console` shows at a chosen revision of their stream. */
  readonly aggregates?: readonly AggregateClass<any>[];
  /** The stream id strategy of the application's repositories, when not the default. */
  readonly streamId?: StreamIdStrategy;
}

/** Types an `annals.config.ts`; returns its argument. */
export function defineConfig(config: AnnalsConfig): AnnalsConfig {
  return config;
}

/** The names tried in the working directory when `--config` is not given, in order. */
export const DEFAULT_CONFIG_FILES = [
  'annals.config.ts',
  'annals.config.mts',
  'annals.config.js',
  'annals.config.mjs',
];

/** A loaded config and the file it came from. */
export interface LoadedConfig {
  readonly path: string;
  readonly config: AnnalsConfig;
}

/**
 * Loads the config module: `path` when given (it must exist), else the first of
 * {@link DEFAULT_CONFIG_FILES} in the working directory; undefined when there is none and
 * `required` is false. TypeScript configs are loaded through jiti.
 */
export async function loadConfig(
  path: string | undefined,
  required: boolean,
): Promise<LoadedConfig | undefined> {
  const file =
    path === undefined
      ? DEFAULT_CONFIG_FILES.map((name) => resolve(name)).find((candidate) => existsSync(candidate))
      : resolve(path);
  if (file === undefined) {
    if (!required) return undefined;
    throw new InvalidArgument(
      `This command needs a config module (event definitions, upcasters, projections): found none of ${DEFAULT_CONFIG_FILES.join(', ')} in ${process.cwd()}; pass --config <file>.`,
    );
  }
  if (!existsSync(file)) throw new InvalidArgument(`The config module ${file} does not exist.`);
  const jiti = createJiti(import.meta.url, { tryNative: true, moduleCache: true, alias: sharedModules() });
  const loaded = (await jiti.import(pathToFileURL(file).href)) as {
    readonly default?: unknown;
    readonly config?: unknown;
  };
  const config = (loaded.config ?? loaded.default) as AnnalsConfig | undefined;
  if (typeof config !== 'object' || config === null) {
    throw new InvalidArgument(
      `The config module ${file} must export its config as the default export or as config (an object with store, projections), found ${typeof config}.`,
    );
  }
  if (config.projections !== undefined && !Array.isArray(config.projections)) {
    throw new InvalidArgument(`The config module ${file} exports projections that are not an array.`);
  }
  if (config.aggregates !== undefined && !Array.isArray(config.aggregates)) {
    throw new InvalidArgument(`The config module ${file} exports aggregates that are not an array.`);
  }
  return { path: file, config };
}

/** The projection named `name` in the config, or `INVALID_ARGUMENT` listing the ones there are. */
export function projectionNamed(loaded: LoadedConfig, name: string): Projection<PostgresProjectionContext> {
  const projections = loaded.config.projections ?? [];
  const found = projections.find((p) => p.name === name);
  if (found === undefined) {
    throw new InvalidArgument(
      `The config ${loaded.path} has no projection named ${name}; it has ${projections.map((p) => p.name).join(', ') || 'none'}.`,
    );
  }
  return found;
}

/**
 * The Annals packages a config imports resolve to the copies this command runs on, wherever the
 * config lives: its definitions, upcasters and projections then meet the same classes.
 */
function sharedModules(): Record<string, string> {
  const aliases: Record<string, string> = {};
  for (const name of ['@annals/core', '@annals/postgres']) {
    try {
      aliases[name] = fileURLToPath(import.meta.resolve(name));
    } catch {
      // Not resolvable from here: the config resolves it on its own.
    }
  }
  return aliases;
}
