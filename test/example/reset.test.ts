import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openBank } from '../../examples/bank-account/src/app.js';
import type { ExampleOptions } from '../../examples/bank-account/src/cli.js';
import { DATA_MARKER } from '../../examples/bank-account/src/data-folder.js';
import { ResetRefused } from '../../examples/bank-account/src/reset-refused.js';
import { ownDatabase, query } from './support/own-database.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const databaseUrl = process.env.DATABASE_URL;

/** Opens the example (without running its scenario) and closes it; returns what --reset deleted. */
async function open(options: ExampleOptions): Promise<readonly string[]> {
  const bank = await openBank(options);
  await bank.close();
  return bank.resetDeleted;
}

describe("the example's --reset deletes only what the example created", () => {
  const temporary: string[] = [];
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'annals-reset-'));
    temporary.push(dir);
    return dir;
  };
  afterAll(async () => {
    for (const dir of temporary) await rm(dir, { recursive: true, force: true });
  });

  it('pglite: a folder the example created is marked, and --reset deletes that folder and says so', async () => {
    const dataDir = join(await tempDir(), 'data');
    const pglite = (reset: boolean): ExampleOptions => ({
      store: 'pglite',
      dataDir,
      databaseUrl: undefined,
      reset,
    });
    expect(await open(pglite(false)), 'what a run without --reset deleted').toEqual([]);
    expect(existsSync(join(dataDir, DATA_MARKER)), 'the marker in the folder the example created').toBe(true);

    expect(await open(pglite(true)), 'what --reset deleted').toEqual([dataDir]);
    expect(existsSync(join(dataDir, DATA_MARKER)), 'the marker, written again for the new folder').toBe(true);
  }, 300_000);

  it('pglite: in an empty folder it was given, --reset deletes what it put there and keeps the folder', async () => {
    const dataDir = await tempDir();
    const options: ExampleOptions = { store: 'pglite', dataDir, databaseUrl: undefined, reset: false };
    await open(options);
    const created = (await readdir(dataDir)).filter((entry) => entry !== DATA_MARKER).sort();
    expect(created.length, 'files PGlite created').toBeGreaterThan(0);

    const deleted = await open({ ...options, reset: true });
    expect([...deleted].sort(), 'what --reset deleted').toEqual(created.map((entry) => join(dataDir, entry)));
    expect(existsSync(dataDir), 'the folder it was given').toBe(true);
    // Two PGlite data folders initialised from nothing: a bound that only catches a hang, on a
    // machine loaded far beyond its cores (one took 122 s at a load average of 14).
  }, 300_000);

  it('pglite: --reset refuses a folder without the marker and deletes nothing', async () => {
    const dataDir = await tempDir();
    await writeFile(join(dataDir, 'precious.txt'), 'not the example’s');
    const refused = await openBank({ store: 'pglite', dataDir, databaseUrl: undefined, reset: true }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ResetRefused);
    expect((refused as Error).message).toContain(dataDir);
    expect((refused as Error).message).toContain(DATA_MARKER);
    expect(await readdir(dataDir), 'the folder after the refused reset').toEqual(['precious.txt']);
  });

  it('the command line: --data pointing at a folder without the marker exits non-zero with the reason', async () => {
    const dataDir = await tempDir();
    await writeFile(join(dataDir, 'precious.txt'), 'not the example’s');
    const exec = promisify(execFile);
    const failed = await exec(
      process.execPath,
      [
        '--import',
        'tsx',
        'examples/bank-account/src/main.ts',
        '--store',
        'pglite',
        '--data',
        dataDir,
        '--reset',
      ],
      { cwd: root, env: { ...process.env, DATABASE_URL: '' } },
    ).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed, 'the process exit').toMatchObject({ code: 1 });
    expect(failed!.stderr).toContain(`--reset refused: ${dataDir}`);
    expect(await readdir(dataDir)).toEqual(['precious.txt']);
  }, 300_000);

  it.skipIf(!databaseUrl)(
    'server: schemas the example created carry a marker; --reset drops those, names them, and refuses an unmarked one',
    async () => {
      const database = { url: ownDatabase('reset') };
      const server = (reset: boolean): ExampleOptions => ({
        store: 'postgres',
        dataDir: '',
        databaseUrl: database.url,
        reset,
      });
      expect(await open(server(false))).toEqual([]);
      expect(await open(server(true)), 'what --reset dropped').toEqual(['schema bank', 'schema bank_read']);
      const schemas = await query<{ nspname: string }>(
        database.url,
        "select nspname from pg_namespace where nspname like 'bank%' order by 1",
      );
      expect(
        schemas.map((s) => s.nspname),
        'the schemas, created again',
      ).toEqual(['bank', 'bank_read']);

      // A schema of the same name that the example did not create is never dropped.
      await query(database.url, 'drop schema bank_read cascade');
      await query(database.url, 'create schema bank_read');
      await query(database.url, 'create table bank_read.precious (id int)');
      const refused = await openBank(server(true)).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(ResetRefused);
      expect((refused as Error).message).toContain('bank_read');
      const left = await query<{ n: number }>(
        database.url,
        "select count(*)::int as n from pg_namespace where nspname in ('bank', 'bank_read')",
      );
      expect(left[0]!.n, 'both schemas, after the refused reset').toBe(2);
    },
    300_000,
  );
});
