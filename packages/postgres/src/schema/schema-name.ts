import { InvalidArgument } from '@annals/core';

/** The schema the Annals tables live in when none is configured. */
export const DEFAULT_SCHEMA = 'annals';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,49}$/;

/**
 * Checks a schema name: lower-case letters, digits and `_`, starting with a letter or `_`, at most 50
 * characters. The name is always quoted in SQL; the limits keep the derived notification channel a
 * valid identifier and spare users case-sensitivity surprises.
 */
export function assertSchemaName(schema: unknown): asserts schema is string {
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw new InvalidArgument(
      `schema must be 1 to 50 lower-case letters, digits or _ (not starting with a digit), found ${JSON.stringify(schema)}.`,
    );
  }
}

/** The NOTIFY channel appends to `schema` signal on. */
export function notificationChannel(schema: string): string {
  return `${schema}_events`;
}
