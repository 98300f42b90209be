import type { AnnalsConfig } from '@annals/cli';
import { BankAccount, bankEvents, Transfer, upcasters } from './src/domain/index.js';
import { AccountBalances } from './src/read-models/account-balances.js';

/**
 * What the `annals` command needs to read the example's store: its definitions and upcasters (the
 * version each event is read as), the balances projection (lag, rebuild), and the aggregates whose
 * state the console shows at a revision. `pnpm example:console` opens the console on the example's
 * data folder with it. (A type import only: the command loads this file from source, no build needed.)
 */
const config: AnnalsConfig = {
  store: { events: bankEvents, upcasters, schema: 'bank' },
  projections: [AccountBalances],
  aggregates: [BankAccount, Transfer],
};

export default config;
