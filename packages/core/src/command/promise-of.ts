/** @internal `fn()` as a promise, also when it throws instead of rejecting. */
export function promiseOf<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
}
