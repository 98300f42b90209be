import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEvent } from '../events/define-event.js';
import { EventRegistry } from '../events/event-registry.js';
import { InMemoryEventStore } from '../store/in-memory-event-store.js';
import { ENVELOPE_KEY, isEnvelope } from './envelope.js';
import { FORGOTTEN } from './forgotten.js';
import { InMemoryKeyStore } from './in-memory-key-store.js';
import { personal } from './personal.js';

const subject = (data: { id: string }) => data.id;
const Registered = defineEvent('Registered', {
  schema: z.object({
    id: z.string(),
    name: personal(z.string(), { subject }),
    addresses: z.array(z.object({ street: personal(z.string(), { subject }) })).optional(),
  }),
});

/** Records the rows a store hands to `open`: its log as stored. */
function storedRows(store: InMemoryEventStore): { data: unknown }[] {
  const seen: { data: unknown }[] = [];
  const codec = store.registry.personalData;
  const open = codec.open.bind(codec);
  codec.open = (rows, options) => {
    seen.push(...rows);
    return open(rows, options);
  };
  return seen;
}

describe('personal data', () => {
  it('seals only the declared fields, at any depth, and opens them again', async () => {
    const keys = new InMemoryKeyStore();
    const store = new InMemoryEventStore({ events: [Registered], personalData: { keys } });
    await store.append('r-1', [
      Registered.create({ id: 'p-1', name: 'Ada', addresses: [{ street: 'Main 1' }] }),
    ]);
    const registry = new EventRegistry({ events: [Registered], personalData: { keys } });
    // What the log holds: the row before opening.
    const seen = storedRows(store);
    const [event] = await collect(store.readStream('r-1'));
    expect(event!.data).toEqual({ id: 'p-1', name: 'Ada', addresses: [{ street: 'Main 1' }] });
    const stored = seen[0]!.data as { id: string; name: unknown; addresses: { street: unknown }[] };
    expect(stored.id).toBe('p-1');
    expect(isEnvelope(stored.name) && isEnvelope(stored.addresses[0]!.street)).toBe(true);
    expect(JSON.stringify(stored)).not.toContain('Ada');
    expect(registry.personalData.declares('Registered')).toBe(true);
  });

  it('an altered ciphertext is PersonalDataUnreadable; a registry without keys is PersonalDataKeysMissing', async () => {
    const keys = new InMemoryKeyStore();
    const registry = new EventRegistry({ events: [Registered], personalData: { keys } });
    const [prepared] = await registry.personalData.seal(
      'r-2',
      registry.prepare('r-2', [Registered.create({ id: 'p-2', name: 'Bo' })]),
    );
    const data = JSON.parse(prepared!.dataJson) as { name: { [ENVELOPE_KEY]: { data: string } } };
    const body = data.name[ENVELOPE_KEY];
    body.data = `${body.data.slice(0, -2)}${body.data.endsWith('AA') ? 'BB' : 'AA'}`;
    await expect(registry.personalData.open([{ data }])).rejects.toMatchObject({
      code: 'PERSONAL_DATA_UNREADABLE',
    });

    const keyless = new EventRegistry({ events: [Registered] });
    expect(() => keyless.prepare('r-3', [Registered.create({ id: 'p-3', name: 'Cy' })])).not.toThrow();
    await expect(
      keyless.personalData.seal(
        'r-3',
        keyless.prepare('r-3', [Registered.create({ id: 'p-3', name: 'Cy' })]),
      ),
    ).rejects.toMatchObject({ code: 'PERSONAL_DATA_KEYS_MISSING' });
    await expect(keyless.personalData.open([{ type: 'Registered', data }])).rejects.toMatchObject({
      code: 'PERSONAL_DATA_KEYS_MISSING',
    });
    expect(FORGOTTEN).toEqual({ $forgotten: true });
  });
});

async function collect<E>(source: AsyncIterable<E>): Promise<E[]> {
  const out: E[] = [];
  for await (const e of source) out.push(e);
  return out;
}
