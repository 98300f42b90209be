/**
 * Freezes `value` and everything reachable from it, so a stored event cannot be changed through a
 * reference handed out by a read. An object that is already frozen is taken as frozen all the way down.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) freezeObject(value);
  return value;
}

function freezeObject(value: object): void {
  if (Object.isFrozen(value)) return;
  Object.freeze(value);
  if (value instanceof Date) return;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = record[key];
    if (typeof item === 'object' && item !== null) freezeObject(item);
  }
}
