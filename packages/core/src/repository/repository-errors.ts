import { AnnalsError } from '../errors/annals-error.js';

/** No events exist for the aggregate (or none existed yet at the time asked for by `loadAt`). */
export class AggregateNotFound extends AnnalsError {
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly streamId: string;

  constructor(aggregateType: string, aggregateId: string, streamId: string, detail?: string) {
    super(
      'AGGREGATE_NOT_FOUND',
      `${aggregateType} ${aggregateId} was not found: stream ${streamId} ${detail ?? 'does not exist'}.`,
    );
    this.aggregateType = aggregateType;
    this.aggregateId = aggregateId;
    this.streamId = streamId;
  }
}
