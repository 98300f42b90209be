import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixture = fileURLToPath(new URL('../fixtures/projection-runner-process.ts', import.meta.url));

/** One status line of a runner process. */
export interface ProcessStatus {
  readonly key: string;
  readonly state: string;
  readonly position: string;
}

/** A projection runner running in a child process (test/projections/fixtures/projection-runner-process.ts). */
export class RunnerProcess {
  readonly owner: string;
  readonly child: ChildProcess;
  /** The latest statuses it reported. */
  statuses: readonly ProcessStatus[] = [];
  readonly midBatch: { key: string; position: bigint }[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  #buffer = '';

  constructor(owner: string, env: Readonly<Record<string, string>>) {
    this.owner = owner;
    // `node --import tsx`, not the tsx CLI: the CLI runs the script in a grandchild process that a
    // SIGKILL of the CLI would leave running.
    this.child = spawn(process.execPath, ['--import', 'tsx', fixture], {
      cwd: root,
      env: { ...process.env, ...env, OWNER: owner },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.#read(chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** The keys it reports as running (or catching up). */
  active(): string[] {
    return this.statuses.filter((s) => s.state === 'running' || s.state === 'catching-up').map((s) => s.key);
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  #read(chunk: string): void {
    this.#buffer += chunk;
    const lines = this.#buffer.split('\n');
    this.#buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      let message: { type?: string; statuses?: ProcessStatus[]; key?: string; position?: string };
      try {
        message = JSON.parse(line);
      } catch {
        continue;
      }
      if (message.type === 'status') this.statuses = message.statuses ?? [];
      if (message.type === 'mid-batch')
        this.midBatch.push({ key: message.key!, position: BigInt(message.position!) });
    }
  }
}

/** Polls `condition` until it holds; the bound only keeps a broken runner from hanging the test. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  boundMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A pg client on the test database, with the queries the tests check the read model with. */
export class TestDatabase {
  readonly client: pg.Client;
  constructor(
    readonly url: string,
    readonly schema: string,
  ) {
    this.client = new pg.Client({ connectionString: url });
  }

  async open(): Promise<void> {
    await this.client.connect();
    await this.client.query(`drop schema if exists ${pg.escapeIdentifier(this.schema)} cascade`);
  }

  /** Creates the read model table (after the store's migrate() created the schema). */
  async createReadModel(): Promise<void> {
    await this.client.query(
      `create table ${this.#t('applied')} (projection text not null, event_id uuid not null, times integer not null, primary key (projection, event_id))`,
    );
  }

  /** Per projection: the events it applied, and the most times any one was applied. */
  async applied(projection: string): Promise<{ events: number; maxTimes: number }> {
    const { rows } = await this.client.query(
      `select count(*)::int as events, coalesce(max(times), 0)::int as max from ${this.#t('applied')} where projection = $1`,
      [projection],
    );
    return { events: rows[0].events, maxTimes: rows[0].max };
  }

  /** Deposits with a position at most `upTo` (all when omitted). */
  async deposits(upTo?: bigint): Promise<number> {
    const { rows } = await this.client.query(
      `select count(*)::int as n from ${this.#t('events')} where type = 'Deposited' and ($1::bigint is null or position <= $1::bigint)`,
      [upTo === undefined ? null : upTo.toString()],
    );
    return rows[0].n;
  }

  /** Applied events with a position above `position` (there must be none above a checkpoint). */
  async appliedAbove(projection: string, position: bigint): Promise<number> {
    const { rows } = await this.client.query(
      `select count(*)::int as n from ${this.#t('applied')} a join ${this.#t('events')} e on e.id = a.event_id
       where a.projection = $1 and e.position > $2::bigint`,
      [projection, position.toString()],
    );
    return rows[0].n;
  }

  async checkpoint(key: string): Promise<bigint | undefined> {
    const { rows } = await this.client.query(
      `select position::text as p from ${this.#t('checkpoints')} where name = $1`,
      [key],
    );
    return rows[0] === undefined ? undefined : BigInt(rows[0].p);
  }

  async leaseOwner(key: string): Promise<string | undefined> {
    const { rows } = await this.client.query(
      `select owner from ${this.#t('projection_leases')} where key = $1 and expires_at > clock_timestamp()`,
      [key],
    );
    return rows[0]?.owner;
  }

  async close(): Promise<void> {
    await this.client.query(`drop schema if exists ${pg.escapeIdentifier(this.schema)} cascade`);
    await this.client.end();
  }

  #t(table: string): string {
    return `${pg.escapeIdentifier(this.schema)}.${pg.escapeIdentifier(table)}`;
  }
}
