import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection strings of the databases made for the example's tests (see {@link ownDatabases}). */
    ownDatabases: Readonly<Record<OwnDatabaseName, string>> | undefined;
  }
}

/** The example's tests that need a database of their own on the server. */
export type OwnDatabaseName = 'example' | 'reset';
const NAMES: readonly OwnDatabaseName[] = ['example', 'reset'];

/**
 * Makes an empty database per {@link OwnDatabaseName} on the server of `serverUrl`, before any test
 * runs, and gives back their connection strings and a teardown that drops them after the last test.
 * Not during the run: CREATE and DROP DATABASE hold a transaction id (a DROP waits for a checkpoint,
 * 30 s on a loaded machine), which holds back every reader of the global log in the cluster.
 */
export async function ownDatabases(
  serverUrl: string,
): Promise<{ urls: Record<OwnDatabaseName, string>; drop: () => Promise<void> }> {
  const run = randomBytes(4).toString('hex');
  const names = NAMES.map((name) => [name, `annals_${name}_${process.pid}_${run}`] as const);
  for (const [, database] of names)
    await admin(serverUrl, `create database ${pg.escapeIdentifier(database)}`);
  const urls = Object.fromEntries(
    names.map(([name, database]) => {
      const url = new URL(serverUrl);
      url.pathname = `/${database}`;
      return [name, url.toString()];
    }),
  ) as Record<OwnDatabaseName, string>;
  const drop = async () => {
    for (const [, database] of names) {
      await admin(serverUrl, `drop database if exists ${pg.escapeIdentifier(database)} with (force)`);
    }
  };
  return { urls, drop };
}

/** The connection string of the database made for `name` by the global setup. */
export function ownDatabase(name: OwnDatabaseName): string {
  const urls = inject('ownDatabases');
  if (urls === undefined)
    throw new Error('no database of its own: run with DATABASE_URL set, through vitest');
  return urls[name];
}

async function admin(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Runs `statement` on the database at `url`, returning its rows. */
export async function query<R extends Record<string, unknown>>(url: string, statement: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(statement)).rows;
  } finally {
    await client.end();
  }
}
