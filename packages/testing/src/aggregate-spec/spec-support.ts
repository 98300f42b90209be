import type { EventRegistry } from '@annals/core';

/** An event a spec expects: what `Definition.create(data)` returns, or a plain `{ type, data }`. */
export interface ExpectedEvent {
  readonly type: string;
  readonly data: unknown;
}

/** A class of errors, for `thenThrows`. */
export type ErrorClass<E extends Error = Error> = abstract new (...args: any[]) => E;

/**
 * Refuses the call JavaScript makes when a scenario is awaited without `then(events)`: a scenario
 * has a `then` method, so `await scenario` would call it with two functions.
 */
export function refuseAwait(kit: string, expected: unknown): void {
  if (typeof expected === 'function' || !Array.isArray(expected)) {
    throw new TypeError(
      `${kit}: then() expects the array of expected events, found ${typeof expected}. Did you await the scenario without calling then([...]), thenThrows(...) or thenNothingHappened()?`,
    );
  }
}

/** Expected events as `{ type, data }`, data parsed by its definition (defaults applied) when the registry knows the type. */
export function normalizeExpected(
  registry: EventRegistry,
  expected: readonly ExpectedEvent[],
): { type: string; data: unknown }[] {
  return expected.map((e) => {
    const parsed = registry.definition(e.type)?.schema.safeParse(e.data);
    return { type: e.type, data: parsed?.success ? parsed.data : e.data };
  });
}

/** `Name: message` of a thrown value. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
