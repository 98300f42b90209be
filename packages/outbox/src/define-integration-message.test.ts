import { defineEvent, InvalidArgument, type RecordedEvent } from '@annals/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineIntegrationMessage } from './define-integration-message.js';
import { IntegrationMessageInvalid } from './errors.js';
import { MESSAGE_HEADERS } from './outgoing-message.js';

const Deposited = defineEvent('Deposited', {
  schema: z.object({ accountId: z.string(), cents: z.number().int(), secret: z.string() }),
});

function recorded(data: unknown, metadata: Record<string, unknown> = {}): RecordedEvent {
  return {
    id: '0190a5d2-0000-7000-8000-000000000001',
    type: 'Deposited',
    schemaVersion: 1,
    tags: [],
    streamId: 'account-7',
    revision: 3n,
    position: 42n,
    data,
    metadata,
    recordedAt: new Date(0),
  };
}

const DepositMessage = defineIntegrationMessage({
  name: 'bank.deposited',
  version: 2,
  event: Deposited,
  schema: z.object({ account: z.string(), amount: z.number().positive() }),
  subject: (e) => `bank.accounts.${e.data.accountId}`,
  map: (e) => ({ account: e.data.accountId, amount: e.data.cents / 100 }),
});

describe('defineIntegrationMessage', () => {
  it('makes the mapped payload, never the stored one, with the event id, subject, version and headers', () => {
    const message = DepositMessage.toMessage(
      recorded(
        { accountId: 'a-7', cents: 1250, secret: 'kept home' },
        { correlationId: 'req-1', causationId: 'cmd-1' },
      ),
    );
    expect(message).toMatchObject({
      id: '0190a5d2-0000-7000-8000-000000000001',
      name: 'bank.deposited',
      version: 2,
      subject: 'bank.accounts.a-7',
      payload: { account: 'a-7', amount: 12.5 },
      streamId: 'account-7',
      revision: 3n,
      position: 42n,
    });
    expect(new TextDecoder().decode(message.body)).toBe('{"account":"a-7","amount":12.5}');
    expect(message.headers).toEqual({
      [MESSAGE_HEADERS.name]: 'bank.deposited',
      [MESSAGE_HEADERS.version]: '2',
      [MESSAGE_HEADERS.eventType]: 'Deposited',
      [MESSAGE_HEADERS.streamId]: 'account-7',
      [MESSAGE_HEADERS.revision]: '3',
      [MESSAGE_HEADERS.position]: '42',
      [MESSAGE_HEADERS.correlationId]: 'req-1',
      [MESSAGE_HEADERS.causationId]: 'cmd-1',
    });
  });

  it('a mapping that throws, a payload off its schema, or an empty subject is IntegrationMessageInvalid', () => {
    const throwing = defineIntegrationMessage({
      name: 'm',
      version: 1,
      event: Deposited,
      schema: z.object({}),
      subject: 's',
      map: () => {
        throw new Error('no mapping for this one');
      },
    });
    const noSubject = defineIntegrationMessage({
      name: 'm',
      version: 1,
      event: Deposited,
      schema: z.object({}),
      subject: () => '',
      map: () => ({}),
    });
    const event = recorded({ accountId: 'a', cents: -5, secret: '' });
    const errors = [
      () => throwing.toMessage(event),
      () => DepositMessage.toMessage(event),
      () => noSubject.toMessage(event),
    ].map((make) => {
      try {
        make();
      } catch (error) {
        return error;
      }
      return undefined;
    });
    for (const error of errors) {
      expect(error).toBeInstanceOf(IntegrationMessageInvalid);
      expect(error).toMatchObject({ code: 'INTEGRATION_MESSAGE_INVALID', eventId: event.id });
    }
    expect((errors[0] as Error).message).toContain('its mapping threw: no mapping for this one');
    expect((errors[1] as Error).message).toContain('does not match the schema of version 2: amount:');
    expect((errors[2] as Error).message).toContain('expected its subject to be a non-empty string, found ""');
  });

  it('refuses a definition without a name, a positive version, an event, a schema, a subject or a map', () => {
    const valid = {
      name: 'm',
      version: 1,
      event: Deposited,
      schema: z.object({}),
      subject: 's',
      map: () => ({}),
    };
    for (const [key, value] of [
      ['name', ''],
      ['version', 0],
      ['event', {}],
      ['schema', {}],
      ['subject', ''],
      ['map', 'x'],
    ] as const) {
      expect(() => defineIntegrationMessage({ ...valid, [key]: value } as never), key).toThrow(
        InvalidArgument,
      );
    }
  });
});
