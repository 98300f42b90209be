import { AnnalsError, type RecordedEvent } from '@annals/core';

declare module '@annals/core' {
  // The codes `@annals/outbox` adds to the stable error codes (declaration merging).
  interface AnnalsErrorCodes {
    BROKER_UNAVAILABLE: true;
    INTEGRATION_MESSAGE_INVALID: true;
  }
}

/**
 * The broker did not confirm a publish (down, unreachable, restarting, or refusing the message):
 * the outbox retries the batch with backoff for as long as this lasts, and never counts it towards
 * the failure policy. `cause` is the client's error.
 */
export class BrokerUnavailable extends AnnalsError {
  /** Which broker: `'nats'` or `'rabbitmq'`. */
  readonly broker: string;
  constructor(broker: string, operation: string, cause: unknown) {
    super(
      'BROKER_UNAVAILABLE',
      `Expected ${broker} to confirm ${operation}, found: ${cause instanceof Error ? cause.message : String(cause)}.`,
      { cause },
    );
    this.broker = broker;
  }
}

/**
 * An event could not be turned into its integration message: the `map` function threw, or its
 * result does not match the message's schema, or the subject is not a non-empty string. A poison
 * event: retried under the outbox's failure policy, then the outbox stops or records it as a dead
 * letter. Nothing of it was published.
 */
export class IntegrationMessageInvalid extends AnnalsError {
  /** The integration message's name. */
  readonly messageName: string;
  /** The id of the event it was made from. */
  readonly eventId: string;
  constructor(messageName: string, event: RecordedEvent, problem: string, options?: { cause?: unknown }) {
    super(
      'INTEGRATION_MESSAGE_INVALID',
      `Integration message ${messageName} could not be made from event ${event.id} (${event.type} at ${event.streamId}@${event.revision}): ${problem}`,
      options,
    );
    this.messageName = messageName;
    this.eventId = event.id;
  }
}
