/**
 * Where a command's time goes on the in-memory store: the same deposit done bare, inside a command
 * context, through a bus with a handler instance, through a bus that resolves the handler with
 * tsyringe (as the benchmark's), each without and with the default middleware, and with a
 * caller-given command id. Prints the median CPU time per command (process.cpuUsage, which a busy
 * machine distorts less than wall time), over rounds that run the variants in turn.
 *
 *   pnpm exec tsx test/bench/profile/bus-breakdown.ts [--commands 10000] [--rounds 10]
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { CommandBus, InMemoryEventStore, Repository, runInCommandContext } from '@annals/core';
import { registerAnnals } from '@annals/core/tsyringe';
import { container } from 'tsyringe';
import { uniqueName } from '../harness/unique.js';
import { defaultMiddleware } from '../suites/aggregate-groups.js';
import { BenchAccount, BenchDeposit, BenchDepositHandler } from '../workload/bench-account.js';
import { benchStoreOptions, deposits } from '../workload/bench-events.js';

const { values } = parseArgs({ options: { commands: { type: 'string' }, rounds: { type: 'string' } } });
const commands = Number(values.commands ?? 10_000);
const rounds = Number(values.rounds ?? 10);

const store = new InMemoryEventStore(benchStoreOptions());
const accounts = new Repository(BenchAccount, { store });
const handler = new BenchDepositHandler(accounts);
const withContainer = (middleware: boolean) =>
  registerAnnals(container.createChildContainer(), {
    store,
    handlers: [BenchDepositHandler],
    ...(middleware ? { middleware: defaultMiddleware() } : {}),
  }).bus;
const diBus = withContainer(true);
const diBare = withContainer(false);
const instanceBus = new CommandBus({ handlers: [handler], middleware: defaultMiddleware() });
const instanceBare = new CommandBus({ handlers: [handler] });
const context = { commandId: 'c', commandType: 'x', correlationId: 'c', causationId: 'c', metadata: {} };
const data = (accountId: string) => ({ accountId, amount: 100, note: 'bench' });
const bare = async (id: string) => {
  const account = await accounts.load(id);
  account.deposit(100, 'bench');
  await accounts.save(account);
};
let given = 0;

const variants: Record<string, (id: string) => Promise<unknown>> = {
  'load, deposit, save (no bus)': bare,
  'the same in a command context': (id) => runInCommandContext(context, () => bare(id)),
  'bus, handler instance, no middleware': (id) => instanceBare.execute(BenchDeposit, data(id)),
  'bus, handler instance, default middleware': (id) => instanceBus.execute(BenchDeposit, data(id)),
  'bus, tsyringe, no middleware': (id) => diBare.execute(BenchDeposit, data(id)),
  'bus, tsyringe, default middleware (the benchmark)': (id) => diBus.execute(BenchDeposit, data(id)),
  'the same with a caller-given command id': (id) =>
    diBus.execute(BenchDeposit, data(id), { commandId: `cmd-${given++}` }),
};

const samples = new Map<string, number[]>();
for (let round = 0; round < rounds; round++) {
  for (const [name, run] of Object.entries(variants)) {
    // Fresh one-event accounts each round: every variant loads streams of the same length.
    const ids = Array.from({ length: commands }, () => uniqueName('acc'));
    for (const id of ids) await store.append(accounts.streamIdOf(id), deposits(0, 1));
    const before = process.cpuUsage();
    for (const id of ids) await run(id);
    const used = process.cpuUsage(before);
    // The first two rounds warm the JIT up.
    if (round > 1) samples.set(name, [...(samples.get(name) ?? []), (used.user + used.system) / commands]);
  }
}
for (const [name, xs] of samples) {
  xs.sort((a, b) => a - b);
  console.log(`${name.padEnd(50)} ${xs[Math.floor(xs.length / 2)]!.toFixed(2)} µs CPU per command`);
}
