import { InvalidArgument } from '@annals/core';
import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import { type NatsConnection, headers as natsHeaders } from '@nats-io/transport-node';
import { BrokerUnavailable } from '../errors.js';
import type { MessagePublisher, OutgoingMessage } from '../outgoing-message.js';

/** Options of {@link NatsPublisher}. */
export interface NatsPublisherOptions {
  /** An open connection (`connect` from `@nats-io/transport-node`); yours to close. */
  readonly connection: NatsConnection;
  /** How long to wait for the stream's acknowledgement of each message. Default 5000 ms. */
  readonly ackTimeoutMs?: number;
  /**
   * Messages sent before waiting for their acknowledgements. They go out in order on the one
   * connection and the stream stores them in that order. Default 256.
   */
  readonly maxInFlight?: number;
}

/**
 * Publishes integration messages to NATS JetStream: each on its subject, with `Nats-Msg-Id` set to
 * the event id, so a message published again (after a crash, or a broker that did not answer in
 * time) within the stream's `duplicate_window` (default 2 minutes) is dropped by the server. The
 * subjects must belong to a stream; `publish` resolves once the stream acknowledged every message.
 * Any failure to get an acknowledgement is {@link BrokerUnavailable} (the outbox retries it).
 *
 * @example
 * ```ts
 * const nc = await connect({ servers: process.env.NATS_URL, maxReconnectAttempts: -1 });
 * const publisher = new NatsPublisher({ connection: nc });
 * ```
 */
export class NatsPublisher implements MessagePublisher {
  readonly broker = 'nats';
  readonly #js: JetStreamClient;
  readonly #ackTimeoutMs: number;
  readonly #maxInFlight: number;

  constructor(options: NatsPublisherOptions) {
    if (typeof options?.connection?.publish !== 'function') {
      throw new InvalidArgument(
        `NatsPublisher expects options.connection to be a NatsConnection, found ${String(options?.connection)}.`,
      );
    }
    this.#ackTimeoutMs = positive('ackTimeoutMs', options.ackTimeoutMs ?? 5000);
    this.#maxInFlight = positive('maxInFlight', options.maxInFlight ?? 256);
    this.#js = jetstream(options.connection);
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    for (let start = 0; start < messages.length; start += this.#maxInFlight) {
      const window = messages.slice(start, start + this.#maxInFlight);
      const acks = window.map((message) => this.#send(message));
      // Every acknowledgement is awaited before reporting one failure: none is left unhandled.
      const results = await Promise.allSettled(acks);
      const failed = results.findIndex((r) => r.status === 'rejected');
      if (failed >= 0) {
        const message = window[failed]!;
        throw new BrokerUnavailable(
          this.broker,
          `message ${message.id} on ${message.subject}`,
          (results[failed] as PromiseRejectedResult).reason,
        );
      }
    }
  }

  #send(message: OutgoingMessage): Promise<unknown> {
    const h = natsHeaders();
    for (const [key, value] of Object.entries(message.headers)) h.set(key, value);
    return this.#js.publish(message.subject, message.body, {
      msgID: message.id,
      headers: h,
      timeout: this.#ackTimeoutMs,
    });
  }
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgument(
      `NatsPublisher option ${name} must be a positive integer, found ${String(value)}.`,
    );
  }
  return value;
}
