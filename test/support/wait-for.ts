/**
 * Polls until `condition` holds. The bound only stops a broken runner from hanging the test; it is
 * far above what any condition here takes, even on a loaded machine.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
