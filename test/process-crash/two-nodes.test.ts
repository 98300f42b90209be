import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BankLedger, BankNode, type Seed, waitFor } from './support/bank-nodes.js';

const url = process.env.DATABASE_URL;

const seed: Seed = {
  accounts: [
    { id: 'alice', deposit: 1000_00 },
    { id: 'bob', deposit: 0 },
  ],
  transfers: Array.from({ length: 12 }, (_, i) => ({
    id: `t-${i}`,
    from: 'alice',
    // Every third goes to dave, whose account never opens: it expires after 3 s and is refunded.
    to: i % 3 === 2 ? 'dave' : 'bob',
    amount: 10_00 + i,
  })),
};

describe.skipIf(!url)(
  'two nodes running the transfer process manager at once (server, child processes)',
  () => {
    const schema = `process_two_nodes_${process.pid}`;
    const ledger = new BankLedger(url ?? '', schema);
    const env = {
      DATABASE_URL: url ?? '',
      SCHEMA: schema,
      LEASE_TTL_MS: '1500',
      TIMER_CLAIM_MS: '2000',
      CREDIT_TIMEOUT_MS: '3000',
      CREDIT_RETRY_MS: '300',
      MODE: 'run',
    };
    const nodes: BankNode[] = [];
    const node = (extra: Record<string, string>) => {
      const started = new BankNode({ ...env, ...extra });
      nodes.push(started);
      return started;
    };

    beforeAll(async () => {
      await ledger.open();
      const seeding = node({ MODE: 'seed', SEED: JSON.stringify(seed), OWNER: 'seeder' });
      expect(await seeding.exited, seeding.stderr).toBe(0);
    });
    afterAll(async () => {
      for (const n of nodes) n.kill('SIGKILL');
      await Promise.all(nodes.map((n) => n.exited));
      await ledger.close();
    });

    it('one node applies the inputs, both fire timers; killing the active one hands over; money adds up, nothing twice', async () => {
      const a = node({ OWNER: 'node-a' });
      const b = node({ OWNER: 'node-b' });
      await waitFor(() => a.active.length + b.active.length > 0, 'one node to take the process manager');
      expect(a.active.length + b.active.length, 'the lease keeps it on one node').toBe(1);
      const [active, standby] = a.active.length > 0 ? [a, b] : [b, a];
      // Kill the active node once some transfers are done, others not.
      await waitFor(async () => (await ledger.transfer('t-0')).credits === 1, 't-0 to be credited');
      active.kill('SIGKILL');
      await active.exited;
      await waitFor(() => standby.active.length === 1, 'the standby node to take over');
      await waitFor(
        async () => {
          for (const t of seed.transfers) if (!BankLedger.settled(await ledger.transfer(t.id))) return false;
          return true;
        },
        'every transfer to settle',
        120_000,
      );
      standby.kill('SIGTERM');
      expect(await standby.exited, standby.stderr).toBe(0);

      let sum = 0;
      for (const t of seed.transfers) {
        const facts = await ledger.transfer(t.id);
        const toDave = t.to === 'dave';
        expect([facts.last, facts.withdrawals, facts.credits, facts.refunds], t.id).toEqual(
          toDave ? ['TransferCompensated', 1, 0, 1] : ['TransferCompleted', 1, 1, 0],
        );
        if (!toDave) sum += t.amount;
      }
      expect(await ledger.balances()).toEqual({ alice: 1000_00 - sum, bob: sum });
    });
  },
);
