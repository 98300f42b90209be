import { AnnalsError } from '@annals/core';
import type { ChainBreak } from './chain-report.js';

declare module '@annals/core' {
  // The codes the event chain adds to the stable error codes (declaration merging).
  interface AnnalsErrorCodes {
    CHAIN_BROKEN: true;
    CHAIN_UNSUPPORTED: true;
  }
}

/**
 * The event chain does not hold: an event was altered, deleted or inserted after it was sealed, or a
 * checkpoint does not match. Thrown by `checkpointChain` (which refuses to sign a broken chain);
 * `verifyChain` returns the same {@link ChainBreak} in its report instead of throwing.
 */
export class ChainBroken extends AnnalsError {
  /** The first place where the chain does not hold. */
  readonly break: ChainBreak;
  constructor(found: ChainBreak) {
    super('CHAIN_BROKEN', found.message);
    this.break = found;
  }
}

/**
 * The store has no event chain: only a `PostgresEventStore` (server or PGlite) keeps one. The
 * in-memory store lives and dies with its process, so there is nothing to seal or verify.
 */
export class ChainUnsupported extends AnnalsError {
  constructor(found: string) {
    super(
      'CHAIN_UNSUPPORTED',
      `Expected a PostgresEventStore (the event chain lives in its tables), found ${found}: an in-memory store keeps no chain.`,
    );
  }
}
