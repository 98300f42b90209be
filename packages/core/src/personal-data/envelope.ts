import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import type { SubjectKey } from './key-store.js';
import { PersonalDataUnreadable } from './personal-data-errors.js';

/** The key of the one property of a sealed field's envelope. */
export const ENVELOPE_KEY = '$personal';

/**
 * A sealed personal field as stored, in place of its value:
 * `{ "$personal": { "v": 1, "subject": "customer-7", "key": 2, "iv": "…", "data": "…" } }`.
 * `subject` and `key` (the key version) are in clear; `iv` is the 12-byte nonce and `data` the
 * AES-256-GCM ciphertext of the value's JSON followed by the 16-byte tag, both base64url. The subject
 * and key version are authenticated data, so an envelope cannot be relabelled.
 */
export interface Envelope {
  readonly [ENVELOPE_KEY]: {
    readonly v: 1;
    readonly subject: string;
    readonly key: number;
    readonly iv: string;
    readonly data: string;
  };
}

/** True when `value` has the shape of an {@link Envelope} (an object whose only key is `$personal`). */
export function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  for (const key in value) if (key !== ENVELOPE_KEY) return false;
  return ENVELOPE_KEY in value;
}

/**
 * Seals `value` under `key`. The nonce is derived from the key, `context` (event id and field path)
 * and the value (a synthetic IV): re-appending the same event seals to the same bytes, so an
 * idempotent retry stays idempotent, while different values never share a nonce under one key.
 */
export function seal(value: unknown, key: SubjectKey, context: string): Envelope {
  const plain = Buffer.from(JSON.stringify(value), 'utf8');
  const aad = additionalData(key.subject, key.version);
  const iv = createHmac('sha256', key.key)
    .update(aad)
    .update(context)
    .update('\u0000')
    .update(plain)
    .digest();
  const nonce = iv.subarray(0, 12);
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce);
  cipher.setAAD(aad);
  const data = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return {
    [ENVELOPE_KEY]: {
      v: 1,
      subject: key.subject,
      key: key.version,
      iv: nonce.toString('base64url'),
      data: data.toString('base64url'),
    },
  };
}

/** Checks an envelope's fields; throws `PersonalDataUnreadable` naming what is wrong. */
export function envelopeFields(envelope: Envelope): Envelope[typeof ENVELOPE_KEY] {
  const body = envelope[ENVELOPE_KEY] as Record<string, unknown> | null;
  if (typeof body !== 'object' || body === null) {
    throw new PersonalDataUnreadable(undefined, `its envelope holds ${JSON.stringify(body)}, not an object`);
  }
  const subject = typeof body.subject === 'string' ? body.subject : undefined;
  if (
    body.v !== 1 ||
    subject === undefined ||
    subject.length === 0 ||
    !Number.isInteger(body.key) ||
    typeof body.iv !== 'string' ||
    typeof body.data !== 'string'
  ) {
    throw new PersonalDataUnreadable(
      subject,
      `expected an envelope { v: 1, subject, key, iv, data }, found ${JSON.stringify(body).slice(0, 200)}`,
    );
  }
  return body as Envelope[typeof ENVELOPE_KEY];
}

/** Opens an envelope with the key it names; throws `PersonalDataUnreadable` when it does not authenticate. */
export function open(envelope: Envelope, key: Uint8Array): unknown {
  const body = envelopeFields(envelope);
  const data = Buffer.from(body.data, 'base64url');
  const nonce = Buffer.from(body.iv, 'base64url');
  if (nonce.length !== 12 || data.length < 16) {
    throw new PersonalDataUnreadable(body.subject, 'its envelope has a truncated nonce or ciphertext');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(additionalData(body.subject, body.key));
    decipher.setAuthTag(data.subarray(data.length - 16));
    const plain = Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]);
    return JSON.parse(plain.toString('utf8'));
  } catch (cause) {
    throw new PersonalDataUnreadable(
      body.subject,
      `its ciphertext does not authenticate under key version ${body.key} (altered, or sealed under another key)`,
      { cause },
    );
  }
}

function additionalData(subject: string, version: number): Buffer {
  return Buffer.from(`annals-personal-v1\u0000${subject}\u0000${version}`, 'utf8');
}
