import { defineEvent, FORGOTTEN, forget, isForgotten, personal, UpcasterRegistry } from '@annals/core';
import { toArray } from '@annals/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { targets, useTestDatabase } from '../postgres/support/test-database.js';

const db = useTestDatabase('personal_upcast');
const subject = (d: { customerId: string }) => d.customerId;

// The release that sealed the events: v1 holds the name.
const RegisteredV1 = defineEvent('Registered', {
  schema: z.object({ customerId: z.string(), name: personal(z.string(), { subject }) }),
});
// A later release: v2 adds a greeting built from the name by an upcaster, personal as well.
const RegisteredV2 = defineEvent('Registered', {
  version: 2,
  schema: z.object({
    customerId: z.string(),
    name: personal(z.string(), { subject }),
    greeting: personal(z.string(), { subject }),
  }),
});
type V1 = { customerId: string; name: string | typeof FORGOTTEN };
const upcasters = new UpcasterRegistry().register({
  type: 'Registered',
  from: 1,
  to: 2,
  // An upcaster sees the clear value, or FORGOTTEN once the subject was forgotten, and passes it on.
  up: (v1: V1) => ({ ...v1, greeting: isForgotten(v1.name) ? FORGOTTEN : `Dear ${v1.name}` }),
});

describe.each(targets)('upcasting events with personal fields (%s)', (target) => {
  it('an upcaster of a sealed v1 event sees the clear name, and FORGOTTEN after forget; every field of the subject then reads FORGOTTEN', async () => {
    const schema = db.schema(target);
    const before = await db.open(target, {
      schema,
      events: [RegisteredV1],
      personalData: { keys: 'postgres' },
    });
    await before.append('customer-c1', [RegisteredV1.create({ customerId: 'c1', name: 'Ada' })]);
    await before.append('customer-c2', [RegisteredV1.create({ customerId: 'c2', name: 'Alan' })]);

    const after = await db.open(target, {
      schema,
      events: [RegisteredV2],
      upcasters,
      personalData: { keys: 'postgres' },
    });
    const read = async (id: string) => (await toArray(after.readStream(`customer-${id}`)))[0]!;
    expect((await read('c1')).data).toEqual({ customerId: 'c1', name: 'Ada', greeting: 'Dear Ada' });

    await forget(after, 'c1');
    const forgotten = await read('c1');
    expect(forgotten.schemaVersion, 'still upcast to the current version').toBe(2);
    expect(forgotten.data).toEqual({ customerId: 'c1', name: FORGOTTEN, greeting: FORGOTTEN });
    expect((await read('c2')).data, 'another subject is untouched').toEqual({
      customerId: 'c2',
      name: 'Alan',
      greeting: 'Dear Alan',
    });
    const all = (await toArray(after.readAll())).filter((e) => e.streamId === 'customer-c1');
    expect(all.map((e) => e.data)).toEqual([{ customerId: 'c1', name: FORGOTTEN, greeting: FORGOTTEN }]);
  });
});
