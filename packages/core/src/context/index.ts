export { type CommandContext, currentCommandContext, runInCommandContext } from './command-context.js';
export {
  currentStoreTransaction,
  runInStoreTransaction,
  type StoreTransactionScope,
} from './store-transaction.js';
