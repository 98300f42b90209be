import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BankLedger, BankNode, type Seed, waitFor } from './support/bank-nodes.js';

const url = process.env.DATABASE_URL;

/** alice pays bob (credited), carol (closed: fails, refunded), dave (never opens: expires, refunded); poor cannot pay. */
const seed: Seed = {
  accounts: [
    { id: 'alice', deposit: 1000_00 },
    { id: 'bob', deposit: 0 },
    { id: 'carol', deposit: 0, closed: true },
    { id: 'poor', deposit: 10_00 },
  ],
  transfers: [
    { id: 't-b1', from: 'alice', to: 'bob', amount: 100_00 },
    { id: 't-b2', from: 'alice', to: 'bob', amount: 110_00 },
    { id: 't-c1', from: 'alice', to: 'carol', amount: 50_00 },
    { id: 't-d1', from: 'alice', to: 'dave', amount: 20_00 },
    { id: 't-d2', from: 'alice', to: 'dave', amount: 30_00 },
    { id: 't-b3', from: 'alice', to: 'bob', amount: 120_00 },
    { id: 't-p1', from: 'poor', to: 'bob', amount: 50_00 },
  ],
};
/** The transfers' credit deadline, and a clock offset that puts a node past it. */
const CREDIT_TIMEOUT_MS = 600_000;
const LATE = 2 * CREDIT_TIMEOUT_MS;
const total = seed.accounts.reduce((sum, a) => sum + a.deposit, 0);

/** Money adds up at every moment: what left a source is in a target, back at its source, or in flight once. */
async function expectMoneyAddsUp(ledger: BankLedger, when: string): Promise<void> {
  const balances = await ledger.balances();
  let inFlight = 0;
  for (const t of seed.transfers) {
    const facts = await ledger.transfer(t.id);
    expect(facts.withdrawals, `${when}: ${t.id} debited at most once`).toBeLessThanOrEqual(1);
    expect(facts.credits, `${when}: ${t.id} credited at most once`).toBeLessThanOrEqual(1);
    expect(facts.refunds, `${when}: ${t.id} refunded at most once`).toBeLessThanOrEqual(1);
    expect(
      facts.credits + facts.refunds,
      `${when}: ${t.id} never both credited and refunded`,
    ).toBeLessThanOrEqual(facts.withdrawals);
    inFlight += (facts.withdrawals - facts.credits - facts.refunds) * t.amount;
  }
  const sum = Object.values(balances).reduce((a, b) => a + b, 0);
  expect(sum + inFlight, `${when}: balances ${JSON.stringify(balances)} plus ${inFlight} in flight`).toBe(
    total,
  );
}

/** Every transfer settled the way its accounts decide. */
async function expectSettledAsDesigned(ledger: BankLedger): Promise<void> {
  const outcome = async (id: string) => {
    const t = await ledger.transfer(id);
    return [t.last, t.withdrawals, t.credits, t.refunds];
  };
  for (const id of ['t-b1', 't-b2', 't-b3'])
    expect(await outcome(id), id).toEqual(['TransferCompleted', 1, 1, 0]);
  expect(await outcome('t-c1'), 't-c1 (carol closed)').toEqual(['TransferCompensated', 1, 0, 1]);
  for (const id of ['t-d1', 't-d2'])
    expect(await outcome(id), `${id} (dave never opens)`).toEqual(['TransferCompensated', 1, 0, 1]);
  expect(await outcome('t-p1'), 't-p1 (overdraft)').toEqual(['TransferFailed', 0, 0, 0]);
  expect(await ledger.balances()).toEqual({ alice: 670_00, bob: 330_00, poor: 10_00 });
}

describe.skipIf(!url)(
  'the transfer process manager killed with SIGKILL between its steps (server, child processes)',
  () => {
    const schema = `process_sigkill_${process.pid}`;
    const ledger = new BankLedger(url ?? '', schema);
    // The credit deadline is far beyond any run of this test on the real clock, so only the nodes
    // whose clock is moved past it (LATE) ever see it fall due, however slow the machine.
    const env = {
      DATABASE_URL: url ?? '',
      SCHEMA: schema,
      LEASE_TTL_MS: '1500',
      TIMER_CLAIM_MS: '2000',
      CREDIT_TIMEOUT_MS: String(CREDIT_TIMEOUT_MS),
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

    it('loses nothing and books nothing twice, whichever step a crash interrupts; late timers expire the transfers to dave', async () => {
      // [point, occurrence, clock offset]: crashes at each kind of step, the later ones after the
      // credit deadlines passed on the nodes' clock. The late ones come in the order a deadline is
      // handled, so each point is still ahead when its node starts: a claim (not fired), a fire
      // appended (the timer kept), the refund command it leads to, that command's outcome, the commit.
      const crashes: [string, number, number][] = [
        ['command-sent', 1, 0],
        ['outcome-recorded', 1, 0],
        ['committed', 1, 0],
        ['checkpointed', 1, 0],
        ['command-sent', 3, 0],
        ['outcome-recorded', 4, 0],
        ['committed', 3, 0],
        ['timer-claimed', 1, 0],
        ['timer-appended', 1, 0],
        ['checkpointed', 5, 0],
        ['timer-claimed', 1, LATE],
        ['timer-appended', 1, LATE],
        ['command-sent', 1, LATE],
        ['outcome-recorded', 1, LATE],
        ['committed', 1, LATE],
      ];
      for (const [index, [point, n, offset]] of crashes.entries()) {
        const victim = node({
          MODE: 'run',
          OWNER: `node-${index}`,
          CRASH_AT: `${point}:${n}`,
          CLOCK_OFFSET_MS: String(offset),
        });
        await waitFor(
          () => victim.crashedAt !== undefined || victim.child.exitCode !== null,
          `node-${index} to reach ${point} #${n}`,
        );
        expect(victim.crashedAt, `node-${index} exited before ${point} #${n}: ${victim.stderr}`).toBe(point);
        victim.kill('SIGKILL');
        expect(await victim.exited, 'killed by the signal, no graceful stop').toBeNull();
        await expectMoneyAddsUp(ledger, `after a crash at ${point} #${n}`);
      }

      const survivor = node({ MODE: 'run', OWNER: 'survivor', CLOCK_OFFSET_MS: String(LATE) });
      await waitFor(
        async () => {
          for (const t of seed.transfers) if (!BankLedger.settled(await ledger.transfer(t.id))) return false;
          return true;
        },
        'every transfer to settle',
        120_000,
      );
      survivor.kill('SIGTERM');
      expect(await survivor.exited, survivor.stderr).toBe(0);
      await expectMoneyAddsUp(ledger, 'at the end');
      await expectSettledAsDesigned(ledger);
    });
  },
);
