/**
 * @internal Whether instrumentation is bypassed: every span, metric and trace-context stamp is
 * skipped, as if Annals had none. For the benchmark, which measures what instrumentation costs with
 * no SDK registered against this; not exported from the package.
 */
export let bypassed = false;

/** @internal Turns the bypass on or off (see {@link bypassed}). */
export function bypassInstrumentation(on: boolean): void {
  bypassed = on;
}
