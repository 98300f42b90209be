import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl, runCli, serverSchema, tempFolder } from './support/cli.js';
import { kept, readLog, seedLog } from './support/seed.js';

// export then import: server -> PGlite -> server keeps the log (ids, revisions, order, types,
// versions, data, metadata, recordedAt), through the command as a user runs it.
const source = serverSchema();
const target = serverSchema();
let temp: { path: string; remove: () => Promise<void> };

beforeAll(async () => {
  temp = await tempFolder('round-trip');
});
afterAll(async () => {
  await source.drop();
  await target.drop();
  await temp?.remove();
});

describe.skipIf(databaseUrl === undefined)(
  'export and import between a server and PGlite',
  { timeout: 600_000 },
  () => {
    const server = (schema: string) => ['--database-url', databaseUrl!, '--schema', schema];
    const pglite = () => ['--data', join(temp.path, 'db')];
    const fromServer = () => join(temp.path, 'server.ndjson');
    const fromPGlite = () => join(temp.path, 'pglite.ndjson');

    it('copies a server log into an empty PGlite store and back into an empty server schema', async () => {
      expect((await runCli([...server(source.name), 'migrate'])).code).toBe(0);
      await seedLog({ connectionString: databaseUrl! }, source.name);

      expect((await runCli([...server(source.name), 'export', '--out', fromServer()])).code).toBe(0);
      expect((await runCli([...pglite(), 'migrate'])).code).toBe(0);
      // The export arrives on stdin, as in `annals export | annals import`.
      const toPGlite = await runCli([...pglite(), 'import'], { input: await readFile(fromServer(), 'utf8') });
      expect(toPGlite.code, toPGlite.stderr).toBe(0);
      expect(toPGlite.stderr).toContain('imported 8 event(s)');

      expect((await runCli([...pglite(), 'export', '--out', fromPGlite()])).code).toBe(0);
      expect((await runCli([...server(target.name), 'migrate'])).code).toBe(0);
      const toServer = await runCli([...server(target.name), 'import', fromPGlite()]);
      expect(toServer.code, toServer.stderr).toBe(0);

      const original = await readLog({ connectionString: databaseUrl! }, source.name);
      expect(original).toHaveLength(8);
      expect(kept(await readLog({ pglite: join(temp.path, 'db') }))).toEqual(kept(original));
      expect(kept(await readLog({ connectionString: databaseUrl! }, target.name))).toEqual(kept(original));
    });

    it('an import into a store that holds events is refused, and --append adds nothing already there', async () => {
      const refused = await runCli([...server(target.name), 'import', fromPGlite()]);
      expect(refused.code).toBe(2);
      expect(refused.stderr.trim()).toMatch(/^annals: INVALID_ARGUMENT: .*already holds events/);
      // Appends are idempotent by event id: importing the same export again changes nothing.
      const again = await runCli([...server(target.name), 'import', '--append', fromPGlite()]);
      expect(again.code, again.stderr).toBe(0);
      expect(await readLog({ connectionString: databaseUrl! }, target.name)).toHaveLength(8);
    });

    it('keeps each event recordedAt, to the millisecond, in log order', async () => {
      const original = await readLog({ connectionString: databaseUrl! }, source.name);
      const copy = await readLog({ connectionString: databaseUrl! }, target.name);
      expect(copy.map((e) => [e.id, e.recordedAt.toISOString()])).toEqual(
        original.map((e) => [e.id, e.recordedAt.toISOString()]),
      );
    });
  },
);
