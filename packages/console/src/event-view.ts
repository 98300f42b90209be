// Shared by the server and the front end (web/src/api.ts): no imports, types only.

/** An event as the API sends it: as stored, and as read through the application's definitions. */
export interface EventView {
  readonly id: string;
  readonly streamId: string;
  readonly revision: string;
  readonly position: string;
  readonly recordedAt: string;
  /** Type, schema version and data as stored. */
  readonly stored: { readonly type: string; readonly schemaVersion: number; readonly data: unknown };
  /**
   * Type, schema version and data as the application reads them (upcast), when a definition knows
   * the event; `error` when it no longer reads.
   */
  readonly read:
    | { readonly type: string; readonly schemaVersion: number; readonly data: unknown }
    | { readonly error: { readonly code: string; readonly message: string } }
    | undefined;
  readonly metadata: Readonly<Record<string, unknown>>;
}
