import type { PostgresConnectionOptions } from '../connection/postgres-connection.js';
import { StoreUnavailable } from '../errors/postgres-errors.js';
import { isTransientError, sqlState } from './database-errors.js';

/**
 * The error `PostgresEventStore.create` throws when its first query fails: a server that cannot be
 * reached or a database that does not exist becomes `StoreUnavailable`, naming the target (without
 * its password) and what to check. Any other error is returned unchanged.
 */
export function connectionFailure(connection: PostgresConnectionOptions, error: unknown): unknown {
  if (error instanceof StoreUnavailable) return error;
  const target = describeTarget(connection);
  const state = sqlState(error);
  if (state === '3D000') {
    return new StoreUnavailable(`opening the store on ${target}`, error, {
      hint: `Check the database name in the connection string: the server answered but has no database ${quoted(databaseOf(connection))}; create it (CREATE DATABASE) or point the connection string at an existing one.`,
    });
  }
  if (state === '28P01' || state === '28000') {
    return new StoreUnavailable(`opening the store on ${target}`, error, {
      hint: "Check the user name and password in the connection string, and the server's pg_hba.conf rules for this host.",
    });
  }
  if (isTransientError(error)) {
    return new StoreUnavailable(`opening the store on ${target}`, error, {
      hint: 'Check that the PostgreSQL server is running and accepts TCP connections at that host and port (listen_addresses, port, firewall), then retry.',
    });
  }
  return error;
}

/** `postgres://user@host:port/database` without the password, or what kind of connection it is. */
export function describeTarget(connection: PostgresConnectionOptions): string {
  if ('connectionString' in connection && typeof connection.connectionString === 'string') {
    return redact(connection.connectionString);
  }
  if ('pglite' in connection && connection.pglite !== undefined) {
    return typeof connection.pglite === 'string'
      ? `PGlite at ${connection.pglite}`
      : 'the PGlite instance passed';
  }
  return 'the Kysely instance passed';
}

function redact(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password !== '') url.password = '';
    url.searchParams.delete('password');
    return url.toString();
  } catch {
    // Not a URL (a keyword/value string): drop a password=... pair.
    return connectionString.replace(/password\s*=\s*('[^']*'|\S+)/gi, 'password=***');
  }
}

function databaseOf(connection: PostgresConnectionOptions): string | undefined {
  if (!('connectionString' in connection) || typeof connection.connectionString !== 'string')
    return undefined;
  try {
    const name = decodeURIComponent(new URL(connection.connectionString).pathname.slice(1));
    return name === '' ? undefined : name;
  } catch {
    return undefined;
  }
}

function quoted(name: string | undefined): string {
  return name === undefined ? '(the default one)' : `"${name}"`;
}
