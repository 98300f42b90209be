import { randomBytes } from 'node:crypto';
import type { ConsoleToken } from './options.js';

/** A new random token (32 characters, URL-safe) with `label`, for a console started without one. */
export function generateToken(label: string): ConsoleToken {
  return { label, secret: randomBytes(24).toString('base64url') };
}
