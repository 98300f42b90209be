import { trace } from '@opentelemetry/api';
import { SCOPE } from './names.js';

/**
 * The tracer every Annals span comes from. The API hands out a proxy: it follows the SDK the
 * application registers, before or after this module loads; with none, its spans are no-ops.
 */
export const tracer = trace.getTracer(SCOPE);
