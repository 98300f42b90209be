/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Gives up after this long. Only stops a broken component from hanging the test. Default 60 s. */
  readonly boundMs?: number;
  /** Between two checks. Default 5 ms. */
  readonly intervalMs?: number;
}

/**
 * Polls until `condition` holds. The bound only stops a broken runner from hanging the test; it is
 * far above what any condition here takes, even on a loaded machine.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  { boundMs = 60_000, intervalMs = 5 }: WaitForOptions = {},
): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
