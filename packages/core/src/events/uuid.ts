import { randomFillSync } from 'node:crypto';

/** The two hex digit character codes of each byte value: byte b at [2b] and [2b + 1]. */
const HEX_CODES = new Uint8Array(512);
for (let b = 0; b < 256; b++) {
  const hex = b.toString(16).padStart(2, '0');
  HEX_CODES[2 * b] = hex.charCodeAt(0);
  HEX_CODES[2 * b + 1] = hex.charCodeAt(1);
}
/** Random bytes drawn from the system in blocks: one system call serves 1024 ids. */
const POOL = new Uint8Array(16 * 1024);
let poolOffset = POOL.length;
/** The character codes of the id being built, dashes in place: turned into one flat string at once. */
const CODES: number[] = Array.from({ length: 36 }, () => 0x2d);

let lastMs = 0;
let sequence = 0;

function put(at: number, byte: number): void {
  CODES[at] = HEX_CODES[2 * byte]!;
  CODES[at + 1] = HEX_CODES[2 * byte + 1]!;
}

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
  put(0, Math.floor(ms / 2 ** 40) & 0xff);
  put(2, Math.floor(ms / 2 ** 32) & 0xff);
  put(4, (ms >>> 24) & 0xff);
  put(6, (ms >>> 16) & 0xff);
  put(9, (ms >>> 8) & 0xff);
  put(11, ms & 0xff);
  put(14, 0x70 | ((sequence >>> 8) & 0x0f));
  put(16, sequence & 0xff);
  put(19, 0x80 | (POOL[r + 1]! & 0x3f));
  put(21, POOL[r + 2]!);
  for (let i = 0; i < 6; i++) put(24 + 2 * i, POOL[r + 3 + i]!);
  // One flat string (not a chain of concatenations): Map keys and comparisons hash it without flattening.
  return String.fromCharCode.apply(null, CODES);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` is a UUID in its canonical textual form (any version). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}
