/**
 * Why the chain does not hold at a position:
 * - `altered`: the event's bytes (or its chain row) changed since it was sealed;
 * - `missing`: the chain or a checkpoint records an event the log no longer has (deleted);
 * - `unchained`: an event below the chain's head has no chain row (inserted, or its row removed);
 * - `checkpoint`: a signed checkpoint's hash differs from the recomputed one: the events after
 *   `after` up to this position were rewritten and their hashes recomputed;
 * - `signature`: a checkpoint's signature does not hold under the public keys (forged, or signed by a
 *   key not given).
 */
export type ChainBreakReason = 'altered' | 'missing' | 'unchained' | 'checkpoint' | 'signature';

/** The first place where the chain does not hold, as {@link verifyChain} reports it. */
export interface ChainBreak {
  readonly reason: ChainBreakReason;
  /** The position of the event (or of the missing event, or of the checkpoint). */
  readonly position: bigint;
  /** The event's stream, when known (a deleted event's comes from its chain row, when still there). */
  readonly streamId?: string;
  /** The event's revision in its stream, when known. */
  readonly revision?: bigint;
  /**
   * For `checkpoint`: the last position known intact (the previous checkpoint that held); the
   * rewrite lies in `(after, position]`. Undefined when no earlier checkpoint held.
   */
  readonly after?: bigint;
  /** One sentence saying what was found where. */
  readonly message: string;
}

/** A signed statement of the chain's hash at a position: store it, publish it, verify against it. */
export interface ChainCheckpoint {
  /** The position of the last event the checkpoint covers. */
  readonly position: bigint;
  /** The chain hash at `position`, 64 hex digits. */
  readonly hash: string;
  /** The signing key's id: the first 16 hex digits of the SHA-256 of its public key (DER, SPKI). */
  readonly keyId: string;
  /** The Ed25519 signature of `annals-chain-checkpoint/1\n<position>\n<hash>`, in base64. */
  readonly signature: string;
  /** When it was stored (absent on a checkpoint read back from a publication that dropped it). */
  readonly signedAt?: Date;
}

/** The outcome of {@link verifyChain}. */
export interface ChainVerification {
  /** True when no break was found. */
  readonly intact: boolean;
  /** The first break, when `intact` is false. */
  readonly broken?: ChainBreak;
  /** Events walked (up to the break when there is one). */
  readonly events: number;
  /** Of those, events checked against their chain row. */
  readonly sealed: number;
  /** Events after the chain's head, not sealed yet (protected by nothing until `sealChain` runs). */
  readonly unsealed: number;
  /** Checkpoints whose signature and hash held. */
  readonly checkpoints: number;
  /** The highest position a checkpoint that held covers: the signed part of the log. */
  readonly signedUpTo?: bigint;
  /** The last sealed event the walk checked, and its hash: the chain's head when the log is intact. */
  readonly head?: { readonly position: bigint; readonly hash: string };
}
