import { describe, expect, it } from 'vitest';
import { Noted, usePGliteReadModel } from '../../../../test/support/projection-read-model.js';
import { PostgresEventLogStats } from './postgres-event-log-stats.js';

const setup = usePGliteReadModel();

describe('PostgresEventLogStats (PGlite)', () => {
  it('counts the pending events of the handled types, renamed stored types included', async () => {
    const { store, deposit } = await setup();
    await deposit('a', 1);
    await store.append('legacy', [{ type: 'FundsAdded', data: { accountId: 'l', amount: 2 } }], {
      import: true,
    });
    await store.append('notes', [Noted.create({ text: 'x' })]);
    const last = await deposit('a', 1);
    const stats = new PostgresEventLogStats(store);
    const all = await stats.pending({ afterPosition: 0n, filter: { types: ['Deposited'] } });
    expect(all.count).toBe(3);
    expect(all.lastPosition).toBe(last.lastPosition);
    expect(all.oldestRecordedAt).toBeInstanceOf(Date);
    expect(
      (await stats.pending({ afterPosition: last.lastPosition, filter: { types: ['Deposited'] } })).count,
    ).toBe(0);
    expect((await stats.pending({ afterPosition: 0n })).count).toBe(4);
    await store.close();
  });
});
