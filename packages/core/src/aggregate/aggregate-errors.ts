import { AnnalsError } from '../errors/annals-error.js';

/**
 * An aggregate met an event type it has no `@Apply` handler for, while raising it or while loading
 * it from its stream. Nothing was applied or recorded. Add `@Apply(TheEvent)` to the aggregate.
 */
export class MissingApplyHandler extends AnnalsError {
  readonly aggregateType: string;
  readonly eventType: string;

  constructor(aggregateType: string, eventType: string, known: readonly string[]) {
    super(
      'MISSING_APPLY_HANDLER',
      `Aggregate ${aggregateType} has no @Apply handler for event type ${eventType}; it handles ${
        known.length > 0 ? known.join(', ') : 'no event types'
      }.`,
    );
    this.aggregateType = aggregateType;
    this.eventType = eventType;
  }
}

/**
 * An aggregate class is not usable as declared: no `@Aggregate(...)` decorator, two `@Apply`
 * handlers for one event type, an invalid snapshot version. Raised when the class is defined or
 * first used, never half-way through a load.
 */
export class AggregateDefinitionInvalid extends AnnalsError {
  constructor(message: string) {
    super('AGGREGATE_DEFINITION_INVALID', message);
  }
}
