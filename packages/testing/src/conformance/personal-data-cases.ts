import {
  type EventValidationFailed,
  FORGOTTEN,
  forget,
  InMemoryKeyStore,
  isForgotten,
  type PersonalDataStore,
  rotateKey,
} from '@annals/core';
import { expect } from 'vitest';
import { toArray } from './collect.js';
import type { ConformanceCase } from './conformance-types.js';
import { expectAnnalsError } from './expect-error.js';
import {
  CustomerRegistered,
  createPersonalStore,
  forgottenSubjects,
  readEveryPath,
  registered,
  SwitchableKeyStore,
} from './personal-data-fixtures.js';

const group = 'personal data';

/** Cases for crypto-shredding: personal fields sealed per subject, forgotten on every read path. */
export const personalDataCases: readonly ConformanceCase[] = [
  {
    group,
    name: 'personal fields read back as appended on every read path, and the other fields are unchanged',
    async run(ctx) {
      const store = await createPersonalStore(ctx);
      await store.append('customer-1', [registered('c1', 'Ada Lovelace', ['ada@example.org'])]);
      for (const [path, events] of Object.entries(await readEveryPath(ctx, store, 'customer-1'))) {
        expect({ path, data: events.map((e) => e.data) }).toEqual({
          path,
          data: [
            {
              customerId: 'c1',
              name: 'Ada Lovelace',
              contact: { emails: ['ada@example.org'] },
              tier: 'gold',
            },
          ],
        });
      }
    },
  },
  {
    group,
    name: 'after forget, every read path returns FORGOTTEN for the subject’s personal fields only, and SubjectForgotten is appended once',
    async run(ctx) {
      const store = await createPersonalStore(ctx);
      await store.append('customer-2', [
        registered('c2', 'Grace Hopper', ['grace@example.org', 'g@example.org']),
        registered('c3', 'Alan Turing'),
      ]);
      await forget(store, 'c2');
      await forget(store, 'c2');
      for (const [path, events] of Object.entries(await readEveryPath(ctx, store, 'customer-2'))) {
        expect({ path, data: events.map((e) => e.data) }).toEqual({
          path,
          data: [
            { customerId: 'c2', name: FORGOTTEN, contact: { emails: [FORGOTTEN, FORGOTTEN] }, tier: 'gold' },
            { customerId: 'c3', name: 'Alan Turing', contact: { emails: [] }, tier: 'gold' },
          ],
        });
      }
      const [first] = await toArray(store.readStream('customer-2'));
      expect(isForgotten((first!.data as { name: unknown }).name)).toBe(true);
      expect(await forgottenSubjects(store)).toEqual([{ subject: 'c2' }]);
    },
  },
  {
    group,
    name: 'personal fields written by appendToStreams are sealed as an append seals them: forgotten with their subject on every read path',
    requires: (capabilities) => capabilities.appendConditions === true,
    async run(ctx) {
      const store = await createPersonalStore(ctx);
      await store.appendToStreams!([
        { streamId: 'customer-8', events: [registered('c8', 'Emmy Noether', ['emmy@example.org'])] },
        { streamId: 'customer-9', events: [registered('c9', 'Kurt Goedel')] },
      ]);
      await forget(store, 'c8');
      for (const [path, events] of Object.entries(await readEveryPath(ctx, store, 'customer-8'))) {
        expect({ path, data: events.map((e) => e.data) }, 'a field stored in clear outlives its key').toEqual(
          {
            path,
            data: [{ customerId: 'c8', name: FORGOTTEN, contact: { emails: [FORGOTTEN] }, tier: 'gold' }],
          },
        );
      }
      const [other] = await toArray(store.readStream('customer-9'));
      expect((other!.data as { name: unknown }).name).toBe('Kurt Goedel');
    },
  },
  {
    group,
    name: 'personal data of a forgotten subject, or FORGOTTEN as a value, is refused, writing nothing',
    async run(ctx) {
      const store = await createPersonalStore(ctx);
      await forget(store, 'c4');
      await expectAnnalsError(
        () => store.append('customer-4', [registered('c4', 'Again')]),
        'FORGOTTEN_SUBJECT_REFUSED',
      );
      const placeholder = CustomerRegistered.create({ customerId: 'c5', name: FORGOTTEN, tier: 'x' });
      const refused = await expectAnnalsError(
        () => store.append('customer-5', [placeholder]),
        'EVENT_VALIDATION_FAILED',
      );
      expect((refused as EventValidationFailed).issues.map((i) => i.path)).toEqual([['name']]);
      await expectAnnalsError(() => toArray(store.readStream('customer-4')), 'STREAM_NOT_FOUND');
      await expectAnnalsError(() => toArray(store.readStream('customer-5')), 'STREAM_NOT_FOUND');
    },
  },
  {
    group,
    name: 'a rotated key seals later appends under a new version, and events sealed before stay readable',
    async run(ctx) {
      const keys = new InMemoryKeyStore();
      const store = await createPersonalStore(ctx, keys);
      await store.append('customer-6', [registered('c6', 'Before')]);
      expect(await rotateKey(store, 'c6')).toBe(2);
      await store.append('customer-6', [registered('c6', 'After')]);
      const names = (await toArray(store.readStream('customer-6'))).map(
        (e) => (e.data as { name: string }).name,
      );
      expect(names).toEqual(['Before', 'After']);
      const known = (await keys.keys(['c6'])).get('c6');
      expect(known?.forgotten === false && [...known.versions.keys()]).toEqual([1, 2]);
      await forget(store, 'c6');
      const after = (await toArray(store.readStream('customer-6'))).map(
        (e) => (e.data as { name: unknown }).name,
      );
      expect(after).toEqual([FORGOTTEN, FORGOTTEN]);
    },
  },
  {
    group,
    name: 'a re-append of a batch with personal fields is idempotent',
    async run(ctx) {
      const store = await createPersonalStore(ctx);
      const event = CustomerRegistered.create(
        { customerId: 'c7', name: 'Once', tier: 'gold' },
        { id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b' },
      );
      const first = await store.append('customer-7', [event], { expectedRevision: 'no_stream' });
      const again = await store.append('customer-7', [event], { expectedRevision: 'no_stream' });
      expect(again).toEqual(first);
      expect(await toArray(store.readStream('customer-7'))).toHaveLength(1);
    },
  },
  {
    group,
    name: 'a lost key store makes reads fail with PersonalDataUnreadable, never garbage data',
    async run(ctx) {
      const keys = new SwitchableKeyStore();
      const store = await createPersonalStore(ctx, keys);
      await store.append('customer-8', [registered('c8', 'Sealed')]);
      keys.current = new InMemoryKeyStore();
      await expectAnnalsError(() => toArray(store.readStream('customer-8')), 'PERSONAL_DATA_UNREADABLE');
      await expectAnnalsError(() => toArray(store.readAll()), 'PERSONAL_DATA_UNREADABLE');
    },
  },
  {
    group,
    name: 'a failing key store is KeyStoreUnavailable with its error as cause, and the append writes nothing',
    async run(ctx) {
      const keys = new SwitchableKeyStore();
      const store = await createPersonalStore(ctx, keys);
      keys.failure = new Error('KMS unreachable');
      const error = await expectAnnalsError(
        () => store.append('customer-9', [registered('c9', 'Nobody')]),
        'KEY_STORE_UNAVAILABLE',
      );
      expect(error.cause).toBe(keys.failure);
      keys.failure = undefined;
      await expectAnnalsError(() => toArray(store.readStream('customer-9')), 'STREAM_NOT_FOUND');
    },
  },
  {
    group,
    name: 'a store given personal fields but no personalData option seals them with its default key store, and forget works',
    async run(ctx) {
      const store = (await ctx.createStore({ events: [CustomerRegistered] })) as PersonalDataStore;
      await store.append('customer-10', [registered('c10', 'Default Keys')]);
      const [before] = await toArray(store.readStream('customer-10'));
      expect((before!.data as { name: unknown }).name).toBe('Default Keys');
      await forget(store, 'c10');
      const [after] = await toArray(store.readStream('customer-10'));
      expect((after!.data as { name: unknown }).name).toEqual(FORGOTTEN);
    },
  },
];
