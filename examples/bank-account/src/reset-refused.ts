/**
 * `--reset` was asked to delete something the example did not create (a folder without its marker,
 * a schema without its comment). Nothing was deleted; the message says what and why.
 */
export class ResetRefused extends Error {
  override name = 'ResetRefused';
}
