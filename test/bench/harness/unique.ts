let counter = 0;

/** A stream id (or key) never used before in this run: `prefix-<n>`. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}
