import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { type EventView, get } from '../api.js';
import { ErrorNotice, EventCard, Json } from '../components.js';
import { streamPath } from '../links.js';
import { useApi } from '../use-api.js';

const PAGE = 20;

interface StreamPage {
  readonly streamId: string;
  readonly from: string;
  readonly lastRevision: string;
  readonly aggregateType: string | undefined;
  readonly events: EventView[];
}

interface StateAnswer {
  readonly state:
    | { aggregateType: string; aggregateId: string; revision: string; state: unknown }
    | undefined;
}

/** A stream's events, a page at a time, and its aggregate's state at a chosen revision. */
export function StreamView(props: { streamId: string; from: string | undefined }) {
  const from = BigInt(props.from ?? '0');
  const { data, error } = useApi(`${props.streamId}\u0000${from}`, () =>
    get<StreamPage>('stream', { id: props.streamId, from: from.toString(), limit: PAGE }),
  );
  const last = data === undefined ? undefined : BigInt(data.lastRevision);
  const previous = from === 0n ? undefined : from < BigInt(PAGE) ? 0n : from - BigInt(PAGE);
  const next = last !== undefined && from + BigInt(PAGE) <= last ? from + BigInt(PAGE) : undefined;
  return (
    <section>
      <h2>
        Stream <span class="stream-id">{props.streamId}</span>
      </h2>
      <ErrorNotice error={error} />
      {data !== undefined && (
        <>
          <p class="muted">
            {(BigInt(data.lastRevision) + 1n).toString()} event(s); revisions {from.toString()} to{' '}
            {(from + BigInt(data.events.length) - 1n).toString()} shown
          </p>
          {data.aggregateType !== undefined && (
            <AggregateState
              streamId={props.streamId}
              aggregateType={data.aggregateType}
              lastRevision={data.lastRevision}
            />
          )}
          <Pager streamId={props.streamId} previous={previous} next={next} />
          {data.events.map((event) => (
            <EventCard key={event.id} event={event} linkStream={false} />
          ))}
          <Pager streamId={props.streamId} previous={previous} next={next} />
        </>
      )}
    </section>
  );
}

function Pager(props: { streamId: string; previous: bigint | undefined; next: bigint | undefined }) {
  return (
    <nav class="pager">
      {props.previous !== undefined && (
        <Link href={streamPath(props.streamId, props.previous.toString())}>Previous</Link>
      )}
      {props.next !== undefined && <Link href={streamPath(props.streamId, props.next.toString())}>Next</Link>}
    </nav>
  );
}

/** The aggregate's state at a revision, loaded through its repository on the server. */
function AggregateState(props: { streamId: string; aggregateType: string; lastRevision: string }) {
  const [typed, setTyped] = useState(props.lastRevision);
  const [revision, setRevision] = useState(props.lastRevision);
  const { data, error } = useApi(`${props.streamId}\u0000${revision}`, () =>
    get<StateAnswer>('state', { stream: props.streamId, revision }),
  );
  return (
    <div class="aggregate-state">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setRevision(typed.trim());
        }}
      >
        <label>
          {props.aggregateType} state at revision{' '}
          <input
            name="revision"
            inputMode="numeric"
            value={typed}
            onInput={(event) => setTyped((event.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit">Load</button>
      </form>
      <ErrorNotice error={error} />
      {data?.state !== undefined && <Json value={data.state.state} label="aggregate state" />}
    </div>
  );
}
