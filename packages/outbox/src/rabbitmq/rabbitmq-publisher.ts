import { InvalidArgument } from '@annals/core';
import type { ChannelModel, ConfirmChannel, Message } from 'amqplib';
import { BrokerUnavailable } from '../errors.js';
import { MESSAGE_HEADERS, type MessagePublisher, type OutgoingMessage } from '../outgoing-message.js';

/** Options of {@link RabbitMqPublisher}. */
export interface RabbitMqPublisherOptions {
  /**
   * Opens a connection: `() => connect(url)` with `connect` from `amqplib`. Called at the first
   * publish and again after a connection was lost; the publisher closes what it opened.
   */
  readonly connect: () => Promise<ChannelModel>;
  /** The exchange messages are published to; their subject is the routing key. `''`: the default exchange. */
  readonly exchange: string;
  /** Runs on each new channel before it publishes (assert the exchange, queues and bindings). */
  readonly setup?: (channel: ConfirmChannel) => Promise<void>;
}

interface Open {
  readonly model: ChannelModel;
  readonly channel: ConfirmChannel;
  /** Set when the channel or its connection closed or failed: the next publish opens a new one. */
  lost: Error | undefined;
  /** Ids of messages of the current batch the broker returned as unroutable. */
  readonly returned: Set<string>;
}

/**
 * Publishes integration messages to RabbitMQ on a confirm channel: persistent, `messageId` set to the
 * event id, `type` to the message name, the subject as routing key, `mandatory` so a message no queue
 * takes is reported instead of dropped. `publish` resolves once the broker confirmed every message
 * (written to disk for durable queues). A consumer must deduplicate by `messageId` (see
 * `PostgresInbox`): RabbitMQ delivers a message published again after a crash a second time.
 * Any failure (connection lost, a nack, a message returned as unroutable) is {@link BrokerUnavailable}.
 *
 * @example
 * ```ts
 * const publisher = new RabbitMqPublisher({
 *   connect: () => connect(process.env.RABBITMQ_URL!),
 *   exchange: 'bank',
 *   setup: async (ch) => { await ch.assertExchange('bank', 'topic', { durable: true }); },
 * });
 * ```
 */
export class RabbitMqPublisher implements MessagePublisher {
  readonly broker = 'rabbitmq';
  readonly #options: RabbitMqPublisherOptions;
  #open: Promise<Open> | undefined;
  #closed = false;

  constructor(options: RabbitMqPublisherOptions) {
    if (typeof options?.connect !== 'function') {
      throw new InvalidArgument(
        `RabbitMqPublisher expects options.connect to be a function that opens an amqplib connection, found ${String(options?.connect)}.`,
      );
    }
    if (typeof options.exchange !== 'string') {
      throw new InvalidArgument(
        `RabbitMqPublisher expects options.exchange to be a string ('' for the default exchange), found ${String(options.exchange)}.`,
      );
    }
    this.#options = options;
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.#closed) throw new InvalidArgument('RabbitMqPublisher is closed.');
    let open: Open;
    try {
      open = await this.#channel();
    } catch (error) {
      throw new BrokerUnavailable(this.broker, 'a connection and a confirm channel', error);
    }
    open.returned.clear();
    try {
      for (const message of messages) {
        const accepted = open.channel.publish(
          this.#options.exchange,
          message.subject,
          Buffer.from(message.body),
          {
            messageId: message.id,
            type: message.name,
            contentType: 'application/json',
            persistent: true,
            mandatory: true,
            headers: message.headers,
            ...(message.headers[MESSAGE_HEADERS.correlationId] === undefined
              ? {}
              : { correlationId: message.headers[MESSAGE_HEADERS.correlationId] }),
          },
        );
        if (!accepted) await drained(open);
      }
      await open.channel.waitForConfirms();
    } catch (error) {
      this.#discard(open, error);
      throw new BrokerUnavailable(
        this.broker,
        `${messages.length} messages on exchange "${this.#options.exchange}"`,
        error,
      );
    }
    if (open.returned.size > 0) {
      const id = [...open.returned][0]!;
      const message = messages.find((m) => m.id === id);
      throw new BrokerUnavailable(
        this.broker,
        `message ${id}`,
        new Error(
          `no queue is bound to exchange "${this.#options.exchange}" for routing key "${message?.subject ?? '?'}"`,
        ),
      );
    }
  }

  /** Closes the connection this publisher opened; further publishes are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    const open = this.#open;
    this.#open = undefined;
    if (open === undefined) return;
    const opened = await open.catch(() => undefined);
    await opened?.model.close().catch(() => {});
  }

  #channel(): Promise<Open> {
    const current = this.#open;
    if (current !== undefined) {
      return current.then((open) => {
        if (open.lost === undefined) return open;
        if (this.#open === current) this.#open = undefined;
        return this.#channel();
      });
    }
    const opening = this.#connect();
    this.#open = opening;
    opening.catch(() => {
      if (this.#open === opening) this.#open = undefined;
    });
    return opening;
  }

  async #connect(): Promise<Open> {
    const model = await this.#options.connect();
    try {
      const channel = await model.createConfirmChannel();
      const open: Open = { model, channel, lost: undefined, returned: new Set() };
      const lose = (error?: Error) => {
        open.lost ??= error ?? new Error('the channel closed');
      };
      // Without these listeners an 'error' event would be thrown at the process.
      model.on('error', lose);
      model.on('close', lose);
      channel.on('error', lose);
      channel.on('close', () => lose());
      channel.on('return', (returned: Message) => {
        const id = returned.properties.messageId;
        if (typeof id === 'string') open.returned.add(id);
      });
      await this.#options.setup?.(channel);
      return open;
    } catch (error) {
      await model.close().catch(() => {});
      throw error;
    }
  }

  #discard(open: Open, error: unknown): void {
    open.lost ??= error instanceof Error ? error : new Error(String(error));
    void open.model.close().catch(() => {});
  }
}

/** Waits until the channel takes writes again, or fails when it closes meanwhile. */
function drained(open: Open): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      open.channel.off('drain', done);
      open.channel.off('close', closed);
      resolve();
    };
    const closed = () => {
      open.channel.off('drain', done);
      open.channel.off('close', closed);
      reject(open.lost ?? new Error('the channel closed'));
    };
    open.channel.on('drain', done);
    open.channel.on('close', closed);
  });
}
