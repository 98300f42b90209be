import { Aggregate, AggregateRoot, Apply } from '@annals/core';
import { BankError } from './errors.js';
import {
  TransferCompensated,
  TransferCompleted,
  TransferDebited,
  TransferFailed,
  TransferStarted,
} from './events.js';

/** Where a transfer stands. `completed`, `failed` and `compensated` are final. */
export type TransferState = 'new' | 'started' | 'debited' | 'completed' | 'failed' | 'compensated';

export class TransferAlreadyStarted extends BankError {
  constructor(id: string) {
    super('TRANSFER_ALREADY_STARTED', `Transfer ${id} has already been started.`);
  }
}

// #region transfer
/**
 * A money transfer between two accounts, as a record of its steps. The transfer process
 * (application/transfer-process.ts) drives it: debit the source, credit the target, and refund the
 * source when the credit fails.
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

  markCompensated() {
    if (this.state === 'failed' && this.debited) this.raise(TransferCompensated, { transferId: this.id });
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

  @Apply(TransferCompensated)
  protected onCompensated() {
    this.state = 'compensated';
  }
}
// #endregion transfer
