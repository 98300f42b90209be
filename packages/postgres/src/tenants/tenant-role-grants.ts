import { type RawBuilder, sql } from 'kysely';

/**
 * The table privileges a tenant handle's operations use, table by table, found by running them as a
 * tenant role (test/tenants/tenant-role.test.ts). Logs that are append-only (events, tags, the hash
 * chain) get no UPDATE or DELETE: the role cannot rewrite history either. Not granted:
 * `annals_migration_lock` (migrations are the owner's), `tenant_placements` (the router's), and
 * changes to `events_archive` (archiving is the owner's). No sequence needs a grant: the one column
 * with a generated value (`projection_dead_letters.id`) is an identity column.
 */
export const TENANT_TABLE_PRIVILEGES: Readonly<Record<string, readonly string[]>> = {
  annals_migration: ['SELECT'],
  events: ['SELECT', 'INSERT'],
  event_tags: ['SELECT', 'INSERT'],
  streams: ['SELECT', 'INSERT', 'UPDATE'],
  events_archive: ['SELECT'],
  event_chain: ['SELECT', 'INSERT'],
  event_chain_checkpoints: ['SELECT', 'INSERT'],
  checkpoints: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  projection_leases: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  projection_pauses: ['SELECT', 'INSERT', 'DELETE'],
  projection_dead_letters: ['SELECT', 'INSERT', 'DELETE'],
  snapshots: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  idempotency_records: ['SELECT', 'INSERT'],
  inbox_messages: ['SELECT', 'INSERT'],
  inbox_failures: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  personal_data_keys: ['SELECT', 'INSERT', 'DELETE'],
  forgotten_subjects: ['SELECT', 'INSERT'],
  process_states: ['SELECT', 'INSERT', 'UPDATE'],
  process_commands: ['SELECT', 'INSERT'],
  process_timers: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
};

/**
 * The functions an append calls (SECURITY INVOKER: they write with the role's own privileges).
 * PUBLIC may execute functions by default; granted explicitly for clusters that revoked that.
 */
const TENANT_FUNCTIONS = ['annals_append', 'annals_append_tagged'] as const;

/** The GRANT statements giving `role` a tenant handle's privileges in `schema`, and nothing more. */
export function tenantGrantStatements(schema: string, role: string): RawBuilder<unknown>[] {
  const grantee = sql.id(role);
  return [
    sql`grant usage on schema ${sql.id(schema)} to ${grantee}`,
    ...Object.entries(TENANT_TABLE_PRIVILEGES).map(
      ([table, privileges]) =>
        sql`grant ${sql.raw(privileges.join(', '))} on table ${sql.id(schema, table)} to ${grantee}`,
    ),
    ...TENANT_FUNCTIONS.map((fn) => sql`grant execute on function ${sql.id(schema, fn)} to ${grantee}`),
  ];
}
