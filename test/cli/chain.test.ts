import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli, tempFolder } from './support/cli.js';
import { seedLog } from './support/seed.js';

// `annals seal` and `annals verify --chain` on a PGlite data folder, one process per command.
let temp: { path: string; remove: () => Promise<void> };
let data: string;
const on = () => ['--data', data];
const keys = generateKeyPairSync('ed25519');
let privateFile: string;
let publicFile: string;

beforeAll(async () => {
  temp = await tempFolder('chain');
  data = join(temp.path, 'db');
  privateFile = join(temp.path, 'chain-key.pem');
  publicFile = join(temp.path, 'chain-key.pub.pem');
  await writeFile(privateFile, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(publicFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
});
afterAll(async () => temp?.remove());

describe('annals seal and verify --chain (PGlite)', { timeout: 600_000 }, () => {
  it('seals, signs a checkpoint, verifies; an edited event exits 5 naming it; usage errors exit 2', async () => {
    expect((await runCli([...on(), 'migrate'])).code).toBe(0);
    await seedLog({ pglite: data });

    const sealed = await runCli([...on(), 'seal', '--checkpoint', '--private-key', privateFile, '--json']);
    expect(sealed.code, sealed.stderr).toBe(0);
    const seal = JSON.parse(sealed.stdout);
    expect(seal).toMatchObject({
      sealed: 8,
      checkpoint: { position: seal.head.position, hash: seal.head.hash },
    });
    const published = join(temp.path, 'checkpoints.ndjson');
    await writeFile(published, `${sealed.stdout}\n`);

    const intact = await runCli([...on(), 'verify', '--chain', '--public-key', publicFile]);
    expect(intact.code, intact.stderr).toBe(0);
    expect(intact.stdout).toMatch(
      /^chain intact: 8 event\(s\), 8 sealed, 0 not sealed yet; 1 checkpoint\(s\) hold/,
    );

    // A superuser edits one event with the append-only trigger off.
    const pglite = await PGlite.create(data);
    const [row] = (
      await pglite.query<{ position: string; stream_id: string; revision: string }>(
        'select position::text as position, stream_id, revision::text as revision from annals.events order by position offset 3 limit 1',
      )
    ).rows;
    await pglite.exec(`alter table annals.events disable trigger user;
      update annals.events set data = '{"sku": "forged"}' where position = ${row!.position};
      alter table annals.events enable trigger user;`);
    await pglite.close();

    const broken = await runCli([
      ...on(),
      'verify',
      '--chain',
      '--public-key',
      publicFile,
      '--checkpoints',
      published,
      '--json',
    ]);
    expect(broken.code).toBe(5);
    expect(jsonLines(broken.stdout)[0]).toMatchObject({
      intact: false,
      broken: {
        reason: 'altered',
        position: row!.position,
        streamId: row!.stream_id,
        revision: row!.revision,
      },
    });
    const text = await runCli([...on(), 'verify', '--chain', '--public-key', publicFile]);
    expect(text.stdout).toContain(`chain broken (altered): The event at position ${row!.position}`);

    const noKey = await runCli([...on(), 'verify', '--chain']);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/^annals: INVALID_ARGUMENT: --chain expects --public-key <file>/);
    const badKey = await runCli([
      ...on(),
      'verify',
      '--chain',
      '--public-key',
      join(temp.path, 'absent.pem'),
    ]);
    expect(badKey.code).toBe(2);
  });
});
