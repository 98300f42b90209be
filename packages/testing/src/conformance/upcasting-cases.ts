import type { ConformanceCase } from './conformance-types.js';
import { failedUpcastingCases } from './upcasting-failure-cases.js';
import { importUpcastingCases } from './upcasting-import-cases.js';
import { readUpcastingCases } from './upcasting-read-cases.js';

/**
 * Upcasting on every read path, and the import path that writes old versions. Adapter-independent:
 * every store that passes these reads old events as the current version everywhere, never rewrites
 * them, refuses imports that could not be read, and fails a read with `UpcastFailed` rather than
 * return bad data.
 */
export const upcastingCases: readonly ConformanceCase[] = [
  ...importUpcastingCases,
  ...readUpcastingCases,
  ...failedUpcastingCases,
];
