export { ChainBroken, ChainUnsupported } from './chain-errors.js';
export { type ChainedEventRow, type ChainKey, chainHash, GENESIS_HASH } from './chain-hash.js';
export type { ChainBreak, ChainBreakReason, ChainCheckpoint, ChainVerification } from './chain-report.js';
export { chainMigration } from './chain-schema.js';
export { type CheckpointChainOptions, checkpointChain, listChainCheckpoints } from './checkpoint-chain.js';
export { type SealChainOptions, type SealReport, sealChain } from './seal-chain.js';
export { type VerifyChainOptions, verifyChain } from './verify-chain.js';
