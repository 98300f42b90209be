/**
 * An aggregate whose events carry a Date (through a zod codec) has the same Date in its state after
 * `raise` and after `repository.load`, on the in-memory store and on PostgreSQL (PGlite). Quoted by
 * docs/concepts/aggregates.md.
 */
import {
  Aggregate,
  AggregateRoot,
  Apply,
  defineEvent,
  type EventData,
  type EventStore,
  InMemoryEventStore,
  Repository,
} from '@annals/core';
import { PostgresEventStore } from '@annals/postgres';
import { AggregateSpec, toArray } from '@annals/testing';
import type { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startPGlite } from '../support/pglite.js';

// #region date-codec
/** A Date in the application, an ISO 8601 string in the log. */
const isoDate = z.codec(z.iso.datetime(), z.date(), {
  decode: (text) => new Date(text),
  encode: (date) => date.toISOString(),
});

const LoanStarted = defineEvent('LoanStarted', {
  schema: z.object({ loanId: z.string(), dueOn: isoDate }),
});

@Aggregate('Loan')
class Loan extends AggregateRoot {
  dueOn: Date | undefined;

  start(dueOn: Date) {
    this.raise(LoanStarted, { loanId: this.id, dueOn }); // the decoded form: a Date
  }

  @Apply(LoanStarted)
  onStarted(event: EventData<typeof LoanStarted>) {
    this.dueOn = event.dueOn; // a Date after raise and after every load
  }
}
// #endregion date-codec

async function proveDates(store: EventStore): Promise<void> {
  const loans = new Repository(Loan, { store });
  const dueOn = new Date('2025-01-31T00:00:00.000Z');
  const loan = new Loan('loan-1');
  loan.start(dueOn);
  expect(loan.dueOn, 'after raise').toEqual(dueOn);
  await loans.save(loan);

  const loaded = await loans.load('loan-1');
  expect(loaded.dueOn, 'after load: a Date, not the stored string').toBeInstanceOf(Date);
  expect(loaded.dueOn, 'after load: the same instant').toEqual(dueOn);
  expect({ ...loaded }, 'the loaded state equals the state after raise').toEqual({ ...loan });

  const [stored] = await toArray(store.readStream('Loan-loan-1'));
  expect(stored?.data, 'read back: decoded').toEqual({ loanId: 'loan-1', dueOn });
}

describe('an aggregate with a Date field (zod codec)', () => {
  let pglite: PGlite | undefined;
  beforeAll(async () => {
    pglite = await startPGlite();
  });
  afterAll(async () => {
    await pglite?.close();
  });

  it('AggregateSpec: given events with a Date (either form), then the raised event with its Date', async () => {
    const dueOn = new Date('2025-02-28T00:00:00.000Z');
    await AggregateSpec.for(Loan, { id: 'loan-2', events: [LoanStarted] })
      .given([])
      .when((loan) => loan.start(dueOn))
      .then([LoanStarted.create({ loanId: 'loan-2', dueOn })]);
    await AggregateSpec.for(Loan, { id: 'loan-3', events: [LoanStarted] })
      .given([LoanStarted.create({ loanId: 'loan-3', dueOn: dueOn.toISOString() })])
      .when((loan) => {
        expect(loan.dueOn, 'a given event in its encoded form is loaded as a Date').toEqual(dueOn);
      })
      .thenNothingHappened();
  });

  it('has a Date after repository.load on the in-memory store', async () => {
    const store = new InMemoryEventStore({ events: [LoanStarted] });
    await proveDates(store);
    await store.close();
  });

  it('has a Date after repository.load on PostgreSQL (PGlite)', async () => {
    const store = await PostgresEventStore.create(
      { pglite: pglite! },
      { events: [LoanStarted], schema: 'loans' },
    );
    await store.migrate();
    try {
      await proveDates(store);
    } finally {
      await store.close();
    }
  });
});
