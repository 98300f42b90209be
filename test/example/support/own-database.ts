import pg from 'pg';

/** A database of its own on the server, so the example's fixed schema names meet no one else's. */
export interface OwnDatabase {
  /** The connection string of the new database. */
  readonly url: string;
  /** Drops the database (ending any session still connected to it). */
  drop(): Promise<void>;
}

/** Creates an empty database named `name` on the server of `serverUrl`. */
export async function createOwnDatabase(serverUrl: string, name: string): Promise<OwnDatabase> {
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  const id = pg.escapeIdentifier(name);
  await admin(`drop database if exists ${id} with (force)`);
  await admin(`create database ${id}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${id} with (force)`) };
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
