import {
  type AppendCondition,
  buildDecisionModel,
  decisionProjection,
  type EventStore,
  isAppendConditionFailed,
} from '@annals/core';
import { expect } from 'vitest';
import { toArray } from './collect.js';
import type { ConformanceCase } from './conformance-types.js';
import {
  AccountRegistered,
  CourseDefined,
  createDcbStore,
  InvoiceCreated,
  OptInConfirmed,
  OptInRequested,
  subscribeStudent,
  UsernameReleased,
  withConditions,
} from './dcb-events.js';
import { expectAnnalsError } from './expect-error.js';

const group = 'dcb.events examples';
const requires = withConditions;

/** Whether the username is taken: registered and not released since. */
const usernameTaken = (username: string) =>
  decisionProjection({
    query: { items: [{ types: ['AccountRegistered', 'UsernameReleased'], tags: [`username:${username}`] }] },
    initialState: false,
    apply: (_taken, event) => event.type === 'AccountRegistered',
  });

async function register(store: EventStore, accountId: string, username: string): Promise<boolean> {
  const { state, condition } = await buildDecisionModel(store, { taken: usernameTaken(username) });
  if (state.taken) return false;
  await store.append(`account-${accountId}`, [AccountRegistered.create({ accountId, username })], {
    condition,
  });
  return true;
}

/** The next invoice number and the condition that keeps it unused. */
async function nextInvoice(store: EventStore): Promise<{ number: number; condition: AppendCondition }> {
  const { state, condition } = await buildDecisionModel(store, {
    last: decisionProjection({
      query: { items: [{ types: ['InvoiceCreated'] }] },
      initialState: 0,
      apply: (_n, event) => (event.data as { invoiceNumber: number }).invoiceNumber,
    }),
  });
  return { number: state.last + 1, condition };
}

/** The opt-in token's state: unknown, requested or used. */
const optIn = (token: string) =>
  decisionProjection<'unknown' | 'requested' | 'used'>({
    query: { items: [{ types: ['OptInRequested', 'OptInConfirmed'], tags: [`token:${token}`] }] },
    initialState: 'unknown',
    apply: (_state, event) => (event.type === 'OptInRequested' ? 'requested' : 'used'),
  });

/** The examples of dcb.events, written as decision models. */
export const dcbExampleCases: readonly ConformanceCase[] = [
  {
    group,
    requires,
    name: 'course subscriptions: a course takes at most its capacity and a student at most 2 courses; a decision made on stale state fails its condition',
    async run(ctx) {
      const store = await createDcbStore(ctx);
      await store.append('course-c1', [CourseDefined.create({ courseId: 'c1', capacity: 2 })]);
      await store.append('course-c2', [CourseDefined.create({ courseId: 'c2', capacity: 5 })]);
      await store.append('course-c3', [CourseDefined.create({ courseId: 'c3', capacity: 5 })]);
      expect(await subscribeStudent(store, 'c9', 's1', 2)).toBe('no course');
      expect(await subscribeStudent(store, 'c1', 's1', 2)).toBe('subscribed');
      expect(await subscribeStudent(store, 'c1', 's2', 2)).toBe('subscribed');
      expect(await subscribeStudent(store, 'c1', 's3', 2)).toBe('course full');
      expect(await subscribeStudent(store, 'c2', 's1', 2)).toBe('subscribed');
      expect(await subscribeStudent(store, 'c3', 's1', 2)).toBe('student limit');
      // A decision about c3 and s2, then another subscription of s2 lands first: the first one's
      // condition sees it.
      const model = await buildDecisionModel(store, {
        course: decisionProjection({
          query: { items: [{ types: ['StudentSubscribed'], tags: ['student:s2'] }] },
          initialState: 0,
          apply: (n) => n + 1,
        }),
      });
      expect(await subscribeStudent(store, 'c2', 's2', 2)).toBe('subscribed');
      await expectAnnalsError(
        () => store.append('late', [{ type: 'Note', data: {} }], { condition: model.condition }),
        'APPEND_CONDITION_FAILED',
      );
      const subscribed = await toArray(
        store.readAll({ filter: { query: { items: [{ types: ['StudentSubscribed'] }] } } }),
      );
      expect(subscribed).toHaveLength(4);
    },
  },
  {
    group,
    requires,
    name: 'unique username: a taken name is refused, a concurrent claim fails its condition, and a released name can be taken again',
    async run(ctx) {
      const store = await createDcbStore(ctx);
      expect(await register(store, '1', 'ann')).toBe(true);
      expect(await register(store, '2', 'ann')).toBe(false);
      const stale = await buildDecisionModel(store, { taken: usernameTaken('bob') });
      expect(await register(store, '3', 'bob')).toBe(true);
      expect(stale.state.taken).toBe(false);
      await expectAnnalsError(
        () =>
          store.append('account-4', [AccountRegistered.create({ accountId: '4', username: 'bob' })], {
            condition: stale.condition,
          }),
        'APPEND_CONDITION_FAILED',
      );
      await store.append('account-1', [UsernameReleased.create({ accountId: '1', username: 'ann' })]);
      expect(await register(store, '5', 'ann')).toBe(true);
      expect(await register(store, '6', 'ann')).toBe(false);
    },
  },
  {
    group,
    requires,
    name: 'invoice numbers without gaps: concurrent creators each get the next number or fail, and the numbers stored are 1..n',
    async run(ctx) {
      const store = await createDcbStore(ctx);
      const create = async (): Promise<number> => {
        for (let attempt = 0; attempt < 50; attempt++) {
          const { number, condition } = await nextInvoice(store);
          try {
            await store.append(`invoice-${number}`, [InvoiceCreated.create({ invoiceNumber: number })], {
              condition,
            });
            return number;
          } catch (error) {
            if (!isAppendConditionFailed(error)) throw error;
          }
        }
        throw new Error('no invoice number after 50 attempts');
      };
      const numbers = await Promise.all(Array.from({ length: 6 }, () => create()));
      expect([...numbers].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
      const stored = await toArray(
        store.readAll({ filter: { query: { items: [{ types: ['InvoiceCreated'] }] } } }),
      );
      expect(stored.map((e) => (e.data as { invoiceNumber: number }).invoiceNumber)).toEqual([
        1, 2, 3, 4, 5, 6,
      ]);
    },
  },
  {
    group,
    requires,
    name: 'opt-in token: a token can be confirmed once, only after it was requested',
    async run(ctx) {
      const store = await createDcbStore(ctx);
      const confirm = async (token: string): Promise<string> => {
        const { state, condition } = await buildDecisionModel(store, { token: optIn(token) });
        if (state.token !== 'requested') return state.token;
        await store.append(`optin-${token}`, [OptInConfirmed.create({ token })], { condition });
        return 'confirmed';
      };
      expect(await confirm('t1')).toBe('unknown');
      await store.append('optin-t1', [OptInRequested.create({ token: 't1', email: 'a@example.com' })]);
      const stale = await buildDecisionModel(store, { token: optIn('t1') });
      expect(await confirm('t1')).toBe('confirmed');
      expect(await confirm('t1')).toBe('used');
      await expectAnnalsError(
        () =>
          store.append('optin-t1', [OptInConfirmed.create({ token: 't1' })], { condition: stale.condition }),
        'APPEND_CONDITION_FAILED',
      );
      expect(await toArray(store.readStream('optin-t1'))).toHaveLength(2);
    },
  },
];
