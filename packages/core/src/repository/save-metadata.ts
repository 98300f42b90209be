import { currentCommandContext } from '../context/command-context.js';
import { InvalidArgument } from '../errors/store-errors.js';
import type { EventMetadata } from '../events/event-types.js';
import type { SaveOptions } from './repository.js';

/**
 * The metadata {@link Repository.save} stamps on every event it saves: the correlation and causation
 * ids and free keys of the save options, else of the command being executed (options win).
 */
export function stampOf(options: SaveOptions): EventMetadata | undefined {
  const context = currentCommandContext();
  for (const key of ['correlationId', 'causationId'] as const) {
    const value = options[key];
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
      throw new InvalidArgument(
        `save option ${key} must be a non-empty string, found ${JSON.stringify(value)}.`,
      );
    }
  }
  const correlationId = options.correlationId ?? context?.correlationId;
  const causationId = options.causationId ?? context?.causationId;
  const metadata: Record<string, unknown> = { ...context?.metadata, ...options.metadata };
  if (correlationId !== undefined) metadata.correlationId = correlationId;
  if (causationId !== undefined) metadata.causationId = causationId;
  return Object.keys(metadata).length === 0 ? undefined : metadata;
}
