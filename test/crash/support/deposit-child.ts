/**
 * One process that executes one Deposit command through a bus with `PostgresIdempotencyStore`, and
 * kills itself with SIGKILL at the point it is told (after the statement it names ran), or prints
 * the command's result as JSON and exits.
 *
 *   deposit-child.ts <schema> <commandId> <amount> [handled | appended | recorded | committed]
 *
 * - handled: the handler returned (its events appended in the open transaction), nothing recorded;
 * - appended: right after the append statement;
 * - recorded: right after the insert of the idempotency record, before COMMIT;
 * - committed: right after COMMIT, before the result reaches the caller.
 */
import 'reflect-metadata';
import { CommandBus, idempotency, Repository, retryOnConcurrency } from '@annals/core';
import { PostgresEventStore, PostgresIdempotencyStore } from '@annals/postgres';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { Deposit, DepositHandler } from '../../../examples/bank-account/src/application/commands.js';
import { BankAccount, bankEvents } from '../../../examples/bank-account/src/domain/index.js';

const [schema, commandId, amount, killAt] = process.argv.slice(2);
const statementKills: Record<string, RegExp> = {
  appended: /annals_append/,
  recorded: /^insert into .*"idempotency_records"/,
  committed: /^commit$/i,
};
const die = () => process.kill(process.pid, 'SIGKILL');
const kysely = new Kysely<any>({
  dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) }),
  log: (event) => {
    const pattern = killAt === undefined ? undefined : statementKills[killAt];
    if (event.level === 'query' && pattern?.test(event.query.sql.trim())) die();
  },
});
const store = await PostgresEventStore.create({ kysely }, { schema, events: bankEvents });
const accounts = new Repository(BankAccount, { store });
const bus = new CommandBus({ handlers: [new DepositHandler(accounts)] })
  .use(retryOnConcurrency())
  .use(idempotency({ store: new PostgresIdempotencyStore(store) }))
  .use(async (_execution, next) => {
    const result = await next();
    if (killAt === 'handled') die();
    return result;
  });
const result = await bus.execute(Deposit, { accountId: 'acc-1', amount: Number(amount) }, { commandId });
console.log(JSON.stringify(result));
await store.close();
await kysely.destroy();
