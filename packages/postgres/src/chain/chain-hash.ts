import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { InvalidArgument } from '@annals/core';

/** The previous hash of the first event in the chain: 32 zero bytes, in hex. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * An events row as the chain hashes it: every column as PostgreSQL prints it (`data` and `metadata`
 * are the stored jsonb's canonical text, ciphertext included), bigints and the timestamp as integers.
 */
export interface ChainedEventRow {
  readonly position: string;
  readonly stream_id: string;
  readonly revision: string;
  readonly id: string;
  readonly type: string;
  readonly schema_version: string;
  /** `recorded_at` in whole microseconds since the epoch. */
  readonly recorded_us: string;
  readonly data: string;
  readonly metadata: string;
  /** `tags` as PostgreSQL prints the text[] (`{a,b}`), the empty string when there are none. */
  readonly tags: string;
}

const PREFIX = 'annals-chain/1\n';

/**
 * The chain hash of one event, in hex: SHA-256 over the UTF-8 of `annals-chain/1\n`, the previous
 * hash in hex, a newline, then each field as `<byte length>:<text>`, in the order position,
 * stream_id, revision, id, type, schema_version, recorded_us, data, metadata, tags.
 */
export function chainHash(previousHash: string, row: ChainedEventRow): string {
  const text =
    PREFIX +
    previousHash +
    '\n' +
    field(row.position) +
    field(row.stream_id) +
    field(row.revision) +
    field(row.id) +
    field(row.type) +
    field(row.schema_version) +
    field(row.recorded_us) +
    field(row.data) +
    field(row.metadata) +
    field(row.tags);
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function field(value: string): string {
  return `${Buffer.byteLength(value, 'utf8')}:${value}`;
}

/** The bytes a checkpoint signs: `annals-chain-checkpoint/1\n<position>\n<hash hex>`. */
export function checkpointMessage(position: bigint, hash: string): Buffer {
  return Buffer.from(`annals-chain-checkpoint/1\n${position}\n${hash}`, 'utf8');
}

/** An Ed25519 key: a `KeyObject`, or its PEM text (a `Buffer` or string). */
export type ChainKey = KeyObject | string | Buffer;

/** The Ed25519 private key of `key`, or `InvalidArgument` saying what was found. */
export function toPrivateKey(key: ChainKey): KeyObject {
  const object = parseKey(key, 'privateKey', (k) => (isKeyObject(k) ? k : createPrivateKey(k)));
  if (object.type !== 'private') {
    throw new InvalidArgument(`privateKey must be an Ed25519 private key, found a ${object.type} key.`);
  }
  return assertEd25519(object, 'privateKey');
}

/** The Ed25519 public key of `key` (a private key yields its public half), or `InvalidArgument`. */
export function toPublicKey(key: ChainKey, name = 'publicKey'): KeyObject {
  const object = parseKey(key, name, (k) => (isKeyObject(k) ? k : createPublicKey(k)));
  return assertEd25519(object.type === 'private' ? createPublicKey(object) : object, name);
}

/** The id of a public key: the first 16 hex digits of the SHA-256 of its DER (SPKI) encoding. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

/** Signs a checkpoint: the signature in base64. */
export function signCheckpoint(privateKey: KeyObject, position: bigint, hash: string): string {
  return sign(null, checkpointMessage(position, hash), privateKey).toString('base64');
}

/** True when `signature` (base64) signs `(position, hash)` under `publicKey`. */
export function checkpointSignatureHolds(
  publicKey: KeyObject,
  position: bigint,
  hash: string,
  signature: string,
): boolean {
  try {
    return verify(null, checkpointMessage(position, hash), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

function parseKey(key: ChainKey, name: string, parse: (key: KeyObject | string | Buffer) => KeyObject) {
  if (typeof key !== 'string' && !Buffer.isBuffer(key) && !isKeyObject(key)) {
    throw new InvalidArgument(
      `${name} must be an Ed25519 key (a KeyObject or PEM text), found ${key === null ? 'null' : typeof key}.`,
    );
  }
  try {
    return parse(key);
  } catch (error) {
    throw new InvalidArgument(
      `${name} must be an Ed25519 key (a KeyObject or PEM text), found text that is not a key: ${
        error instanceof Error ? error.message : String(error)
      }.`,
      { cause: error },
    );
  }
}

function isKeyObject(key: unknown): key is KeyObject {
  return typeof key === 'object' && key !== null && typeof (key as KeyObject).export === 'function';
}

function assertEd25519(key: KeyObject, name: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new InvalidArgument(
      `${name} must be an Ed25519 key, found a ${key.asymmetricKeyType ?? key.type} key.`,
    );
  }
  return key;
}
