import { Aggregate, AggregateRoot, Apply } from '@annals/core';
import { BankError } from './errors.js';
import {
  TransferCompensated,
  TransferCompleted,
  TransferDebited,
  TransferExpired,
  TransferFailed,
  TransferStarted,
} from './events.js';

/**
 * Where a transfer stands. `completed` and `compensated` are final, `failed` is final when nothing
 * was debited, `expired` is final once the source is refunded (`refunded`).
 */
export type TransferState =
  | 'new'
  | 'started'
  | 'debited'
  | 'completed'
  | 'failed'
  | 'compensated'
  | 'expired';

export class TransferAlreadyStarted extends BankError {
  constructor(id: string) {
    super('TRANSFER_ALREADY_STARTED', `Transfer ${id} has already been started.`);
  }
}

// #region transfer
/**
 * A money transfer between two accounts, as a record of its steps. The transfer process
 * (application/transfer-process.ts) drives it: debit the source, credit the target, and refund the
 * source when the credit fails or does not happen in time. Completing and expiring exclude each
 * other here, so a transfer is never both credited and refunded.
 */
@Aggregate('Transfer')
export class Transfer extends AggregateRoot {
  state: TransferState = 'new';
  from = '';
  to = '';
  amount = 0;
  reason: string | undefined = undefined;
  /** The source was debited, so a failure afterwards must refund it. */
  debited = false;
  /** The source got its money back. */
  refunded = false;

  start(from: string, to: string, amount: number, currency: string) {
    if (this.state !== 'new') throw new TransferAlreadyStarted(this.id);
    this.raise(TransferStarted, { transferId: this.id, from, to, amount: { value: amount, currency } });
  }

  /** Each step is recorded once; repeating it (a redelivered event) records nothing. */
  markDebited() {
    if (this.state === 'started') this.raise(TransferDebited, { transferId: this.id });
  }

  complete() {
    if (this.state === 'debited') this.raise(TransferCompleted, { transferId: this.id });
  }

  fail(reason: string) {
    if (this.state === 'started' || this.state === 'debited')
      this.raise(TransferFailed, { transferId: this.id, reason });
  }

  /** The credit did not happen in time: from `debited` only (a completed transfer stays completed). */
  expire() {
    if (this.state === 'debited') this.raise(TransferExpired, { transferId: this.id });
  }

  markCompensated() {
    if (this.debited && !this.refunded && (this.state === 'failed' || this.state === 'expired'))
      this.raise(TransferCompensated, { transferId: this.id });
  }

  @Apply(TransferStarted)
  protected onStarted(e: { from: string; to: string; amount: { value: number } }) {
    Object.assign(this, { state: 'started', from: e.from, to: e.to, amount: e.amount.value });
  }

  @Apply(TransferDebited)
  protected onDebited() {
    this.state = 'debited';
    this.debited = true;
  }

  @Apply(TransferCompleted)
  protected onCompleted() {
    this.state = 'completed';
  }

  @Apply(TransferFailed)
  protected onFailed(e: { reason: string }) {
    this.state = 'failed';
    this.reason = e.reason;
  }

  @Apply(TransferExpired)
  protected onExpired() {
    this.state = 'expired';
  }

  @Apply(TransferCompensated)
  protected onCompensated() {
    if (this.state === 'failed') this.state = 'compensated';
    this.refunded = true;
  }
}
// #endregion transfer
