import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** Random bytes drawn from the system in blocks: one system call serves 1024 ids. */
const POOL = new Uint8Array(16 * 1024);
let poolOffset = POOL.length;

let lastMs = 0;
let sequence = 0;

/**
 * A UUID v7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter that keeps ids from one
 * process sortable within a millisecond, then random bits.
 */
export function uuidv7(): string {
  if (poolOffset + 10 > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const r = poolOffset;
  poolOffset += 10;
  let ms = Date.now();
  if (ms <= lastMs) {
    sequence++;
    if (sequence > 0xfff) {
      lastMs++;
      sequence = 0;
    }
    ms = lastMs;
  } else {
    lastMs = ms;
    sequence = POOL[r]! & 0x03; // a small random start, so the counter does not always start at 0
  }
  const h = HEX;
  return (
    h[Math.floor(ms / 2 ** 40) & 0xff]! +
    h[Math.floor(ms / 2 ** 32) & 0xff]! +
    h[(ms >>> 24) & 0xff]! +
    h[(ms >>> 16) & 0xff]! +
    '-' +
    h[(ms >>> 8) & 0xff]! +
    h[ms & 0xff]! +
    '-' +
    h[0x70 | ((sequence >>> 8) & 0x0f)]! +
    h[sequence & 0xff]! +
    '-' +
    h[0x80 | (POOL[r + 1]! & 0x3f)]! +
    h[POOL[r + 2]!]! +
    '-' +
    h[POOL[r + 3]!]! +
    h[POOL[r + 4]!]! +
    h[POOL[r + 5]!]! +
    h[POOL[r + 6]!]! +
    h[POOL[r + 7]!]! +
    h[POOL[r + 8]!]!
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` is a UUID in its canonical textual form (any version). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}
