import { type AnyEventDefinition, type EventData, InvalidArgument, type RecordedEvent } from '@annals/core';
import type { z } from 'zod';
import { IntegrationMessageInvalid } from './errors.js';
import { MESSAGE_HEADERS, type OutgoingMessage } from './outgoing-message.js';

/** The recorded event an integration message is made from, typed from its definition. */
export type SourceEvent<E extends AnyEventDefinition> = RecordedEvent<E['type'], EventData<E>>;

/** Options of {@link defineIntegrationMessage}. */
export interface IntegrationMessageOptions<E extends AnyEventDefinition, S extends z.ZodType> {
  /** The message's name, as consumers know it (`'bank.transfer-completed'`). */
  readonly name: string;
  /** The version of the message's contract: a positive integer, raised with every breaking change of `schema`. */
  readonly version: number;
  /** The event definition the message is made from. */
  readonly event: E;
  /** The message's contract: what `map` returns must match it. */
  readonly schema: S;
  /** The NATS subject or RabbitMQ routing key: fixed, or computed from the event. */
  readonly subject: string | ((event: SourceEvent<E>) => string);
  /** Makes the payload from the event: the explicit mapping from the domain to the integration contract. */
  readonly map: (event: SourceEvent<E>) => z.input<S>;
}

/** A checked, frozen integration message definition, for `defineOutbox`. */
export interface IntegrationMessageDefinition {
  readonly name: string;
  readonly version: number;
  /** The event type it is made from. */
  readonly eventType: string;
  /**
   * Makes the outgoing message of `event`. Throws {@link IntegrationMessageInvalid} when `map`
   * throws, its result does not match the schema or JSON cannot hold it, or the subject is empty.
   */
  toMessage(event: RecordedEvent): OutgoingMessage;
}

const encoder = new TextEncoder();

/**
 * Defines the integration message made from one event type: its name, version, subject and zod
 * schema, and the function that maps the event to the payload. The stored event payload is never
 * published as it is: the mapping is the contract other services depend on, versioned on its own.
 *
 * @example
 * ```ts
 * export const TransferCompletedMessage = defineIntegrationMessage({
 *   name: 'bank.transfer-completed',
 *   version: 1,
 *   event: TransferCompleted,
 *   schema: z.object({ transferId: z.string(), amount: z.number() }),
 *   subject: 'bank.transfers.completed',
 *   map: (e) => ({ transferId: e.data.transferId, amount: e.data.amount }),
 * });
 * ```
 */
export function defineIntegrationMessage<const E extends AnyEventDefinition, S extends z.ZodType>(
  options: IntegrationMessageOptions<E, S>,
): IntegrationMessageDefinition {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgument(
      `defineIntegrationMessage expects an options object, found ${String(options)}.`,
    );
  }
  const { name, version, event, schema, subject, map } = options;
  const about = `defineIntegrationMessage(${JSON.stringify(name)})`;
  if (typeof name !== 'string' || name.trim().length === 0) {
    throw new InvalidArgument(
      `defineIntegrationMessage expects name to be a non-empty string, found ${JSON.stringify(name)}.`,
    );
  }
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new InvalidArgument(`${about} expects version to be a positive integer, found ${String(version)}.`);
  }
  if (typeof event?.type !== 'string') {
    throw new InvalidArgument(
      `${about} expects event to be an event definition made by defineEvent, found ${String(event)}.`,
    );
  }
  if (typeof (schema as { safeParse?: unknown } | undefined)?.safeParse !== 'function') {
    throw new InvalidArgument(`${about} expects schema to be a zod schema, found ${String(schema)}.`);
  }
  if (typeof subject !== 'function' && (typeof subject !== 'string' || subject.length === 0)) {
    throw new InvalidArgument(
      `${about} expects subject to be a non-empty string or a function of the event, found ${JSON.stringify(subject)}.`,
    );
  }
  if (typeof map !== 'function') {
    throw new InvalidArgument(`${about} expects map to be a function of the event, found ${typeof map}.`);
  }
  const subjectOf = typeof subject === 'function' ? subject : () => subject;
  return Object.freeze({
    name,
    version,
    eventType: event.type,
    toMessage(recorded: RecordedEvent): OutgoingMessage {
      const source = recorded as SourceEvent<E>;
      const invalid = (problem: string, cause?: unknown) =>
        new IntegrationMessageInvalid(name, recorded, problem, cause === undefined ? undefined : { cause });
      let raw: unknown;
      let to: unknown;
      try {
        raw = map(source);
        to = subjectOf(source);
      } catch (error) {
        throw invalid(`its mapping threw: ${error instanceof Error ? error.message : String(error)}`, error);
      }
      if (typeof to !== 'string' || to.length === 0) {
        throw invalid(`expected its subject to be a non-empty string, found ${JSON.stringify(to)}.`);
      }
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        const issues = parsed.error.issues
          .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
          .join('; ');
        throw invalid(`its payload does not match the schema of version ${version}: ${issues}.`);
      }
      let json: string | undefined;
      try {
        json = JSON.stringify(parsed.data);
      } catch (error) {
        throw invalid(`JSON cannot hold its payload (${(error as Error).message}).`, error);
      }
      if (json === undefined) throw invalid(`JSON cannot hold its payload (${typeof parsed.data}).`);
      return Object.freeze({
        id: recorded.id,
        name,
        version,
        subject: to,
        payload: parsed.data,
        body: encoder.encode(json),
        headers: Object.freeze(headersOf(name, version, recorded)),
        streamId: recorded.streamId,
        revision: recorded.revision,
        position: recorded.position,
      });
    },
  });
}

function headersOf(name: string, version: number, event: RecordedEvent): Record<string, string> {
  const headers: Record<string, string> = {
    [MESSAGE_HEADERS.name]: name,
    [MESSAGE_HEADERS.version]: String(version),
    [MESSAGE_HEADERS.eventType]: event.type,
    [MESSAGE_HEADERS.streamId]: event.streamId,
    [MESSAGE_HEADERS.revision]: event.revision.toString(),
    [MESSAGE_HEADERS.position]: event.position.toString(),
  };
  const { correlationId, causationId } = event.metadata;
  if (typeof correlationId === 'string') headers[MESSAGE_HEADERS.correlationId] = correlationId;
  if (typeof causationId === 'string') headers[MESSAGE_HEADERS.causationId] = causationId;
  return headers;
}
