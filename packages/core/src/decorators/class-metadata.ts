/**
 * @internal Metadata of decorated classes, kept on the class (or prototype) itself under a
 * `Symbol.for` key, not in the global `Reflect`: the decorators need no polyfill, and a second copy of
 * `@annals/core` reads what the first one wrote.
 */

/** The value `target` holds itself (not through its prototype chain) under `key`, if any. */
export function ownMetadata<T>(target: object, key: symbol): T | undefined {
  return Object.hasOwn(target, key) ? ((target as Record<symbol, T>)[key] as T) : undefined;
}

/** The value `target` or the first of its prototypes that has one holds under `key`, if any. */
export function inheritedMetadata<T>(target: object, key: symbol): T | undefined {
  return (target as Record<symbol, T | undefined>)[key];
}

/** Stores `value` on `target` under `key`: not enumerable, not copied by spreads or JSON. */
export function defineMetadata(target: object, key: symbol, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: false, configurable: true, writable: true });
}
