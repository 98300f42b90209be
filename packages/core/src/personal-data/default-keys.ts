import type { EventRegistry, EventRegistryOptions } from '../events/event-registry.js';
import { personalFieldsOf } from './personal.js';

/**
 * Store options with a default key store (`keys()`, or a name such as `'postgres'`) when their
 * definitions declare personal fields and give no `personalData`; a shared `EventRegistry` brings
 * its own. Stores call it on their options.
 */
export function withDefaultKeys<
  O extends {
    readonly events?: EventRegistryOptions['events'] | EventRegistry;
    readonly personalData?: unknown;
  },
>(options: O, keys: () => unknown): O {
  if (options.personalData !== undefined || !Array.isArray(options.events)) return options;
  const declared = (options.events as EventRegistryOptions['events'])!.some(
    (definition) => personalFieldsOf(definition.schema).length > 0,
  );
  return declared ? { ...options, personalData: { keys: keys() } } : options;
}
