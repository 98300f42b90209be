import type { z } from 'zod';
import type { ValidationIssue } from '../errors/store-errors.js';

/** Converts zod issues to {@link ValidationIssue}s. */
export function toIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
    message: issue.message,
    code: issue.code,
  }));
}
