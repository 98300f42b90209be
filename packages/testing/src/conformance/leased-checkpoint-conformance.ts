import { type CheckpointStore, isCheckpointConflict, isLeaseLost, type LeaseStore } from '@annals/core';
import { describe, expect, it } from 'vitest';
import { expectAnnalsError } from './expect-error.js';

/** A checkpoint store that checks leases, and the lease store it checks. */
export interface LeasedCheckpointStores {
  /** The checkpoint store under test; a save checks `leases`. */
  readonly checkpoints: CheckpointStore;
  /** The lease store whose leases `checkpoints` checks. */
  readonly leases: LeaseStore;
}

/** Options of {@link runLeasedCheckpointStoreConformance}. */
export interface LeasedCheckpointStoreConformanceOptions {
  /** Shown in the test names. */
  readonly name: string;
  /** A fresh, empty checkpoint store that checks the leases of the fresh, empty lease store returned with it. */
  createStores(): LeasedCheckpointStores | Promise<LeasedCheckpointStores>;
}

/** How long a lease lasts when a case means it to hold: far longer than any case takes. */
const HELD_MS = 600_000;

/**
 * Registers the cases every {@link CheckpointStore} that checks leases must pass: one error for one
 * situation. A checkpoint that moved while the saving runner still holds its lease is a lost
 * compare-and-swap, `CheckpointConflict` (code `CHECKPOINT_CONFLICT`); a lease that is taken, released
 * or expired is `LeaseLost` (code `LEASE_LOST`), whether or not the checkpoint moved too. Either way
 * nothing is written.
 *
 * @example
 * ```ts
 * runLeasedCheckpointStoreConformance({
 *   name: 'InMemoryCheckpointStore with leases',
 *   createStores: () => {
 *     const leases = new InMemoryLeaseStore();
 *     return { leases, checkpoints: new InMemoryCheckpointStore({ leases }) };
 *   },
 * });
 * ```
 */
export function runLeasedCheckpointStoreConformance(options: LeasedCheckpointStoreConformanceOptions): void {
  describe(`${options.name}: leased checkpoint store conformance`, () => {
    it('a checkpoint moved while the runner still holds its lease throws CheckpointConflict (CHECKPOINT_CONFLICT), not LeaseLost, and writes nothing', async () => {
      const { checkpoints, leases } = await options.createStores();
      expect(await leases.acquire('balances', 'runner-1', HELD_MS)).toBe(true);
      await checkpoints.save('balances', 10n, { expected: undefined, owner: 'runner-1' });
      for (const expected of [5n, undefined]) {
        const error = await expectAnnalsError(
          () => checkpoints.save('balances', 20n, { expected, owner: 'runner-1' }),
          'CHECKPOINT_CONFLICT',
        );
        const what = `a save by the lease holder expecting ${String(expected)} where 10 is stored`;
        expect(isCheckpointConflict(error), what).toBe(true);
        expect(isLeaseLost(error), `${what} is not a lost lease`).toBe(false);
        expect(error, what).toMatchObject({
          name: 'CheckpointConflict',
          key: 'balances',
          owner: 'runner-1',
          expected,
          found: 10n,
        });
      }
      expect(await checkpoints.load('balances'), 'nothing was written').toBe(10n);
      await checkpoints.save('balances', 20n, { expected: 10n, owner: 'runner-1' });
      expect(await checkpoints.load('balances'), 'the holder saves from the stored position').toBe(20n);
    });

    it('a save by a runner whose lease another runner took throws LeaseLost (LEASE_LOST), also when the checkpoint moved too, and writes nothing', async () => {
      const { checkpoints, leases } = await options.createStores();
      expect(await leases.acquire('balances', 'runner-1', HELD_MS)).toBe(true);
      await checkpoints.save('balances', 10n, { expected: undefined, owner: 'runner-1' });
      await leases.release('balances', 'runner-1');
      expect(await leases.acquire('balances', 'runner-2', HELD_MS)).toBe(true);
      for (const expected of [10n, 5n]) {
        const error = await expectAnnalsError(
          () => checkpoints.save('balances', 20n, { expected, owner: 'runner-1' }),
          'LEASE_LOST',
        );
        const what = `a save by runner-1 expecting ${expected} while runner-2 holds the lease`;
        expect(isCheckpointConflict(error), `${what} is not a checkpoint conflict`).toBe(false);
        expect(error, what).toMatchObject({ name: 'LeaseLost', key: 'balances', owner: 'runner-1' });
      }
      expect(await checkpoints.load('balances'), 'nothing was written').toBe(10n);
      await checkpoints.save('balances', 20n, { expected: 10n, owner: 'runner-2' });
      expect(await checkpoints.load('balances'), 'the new holder saves').toBe(20n);
    });

    it('a save by a runner whose lease expired, or that never held one, throws LeaseLost (LEASE_LOST) and writes nothing', async () => {
      const { checkpoints, leases } = await options.createStores();
      const none = await expectAnnalsError(
        () => checkpoints.save('balances', 10n, { expected: undefined, owner: 'runner-1' }),
        'LEASE_LOST',
      );
      expect(none).toMatchObject({ name: 'LeaseLost', key: 'balances', owner: 'runner-1' });
      expect(await checkpoints.load('balances'), 'nothing was written without a lease').toBeUndefined();

      expect(await leases.acquire('balances', 'runner-1', 50)).toBe(true);
      // Waits for the lease to expire; the bound only catches a store whose leases never do.
      const deadline = Date.now() + 30_000;
      while ((await leases.get('balances')) !== undefined) {
        if (Date.now() > deadline) throw new Error('a lease of 50 ms had not expired after 30 s');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const expired = await expectAnnalsError(
        () => checkpoints.save('balances', 10n, { expected: undefined, owner: 'runner-1' }),
        'LEASE_LOST',
      );
      expect(expired).toMatchObject({ name: 'LeaseLost', key: 'balances', owner: 'runner-1' });
      expect(await checkpoints.load('balances'), 'nothing was written after the expiry').toBeUndefined();
    });
  });
}
