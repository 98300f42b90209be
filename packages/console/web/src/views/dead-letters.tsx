import { useState } from 'preact/hooks';
import { Link, useLocation } from 'wouter-preact';
import { type ApiError, type EventView, get, post } from '../api.js';
import { ErrorNotice, EventCard } from '../components.js';
import { deadLetterPath } from '../links.js';
import { useApi } from '../use-api.js';

interface DeadLetter {
  readonly id: string;
  readonly projection: string;
  readonly key: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly streamId: string;
  readonly position: string;
  readonly error: string;
  readonly stack?: string;
  readonly attempts: number;
  readonly recordedAt: string;
}

/** Dead letters, oldest first. */
export function DeadLettersView() {
  const { data, error } = useApi(
    'dead-letters',
    () => get<{ deadLetters: DeadLetter[] }>('dead-letters'),
    5000,
  );
  return (
    <section>
      <h2>Dead letters</h2>
      <ErrorNotice error={error} />
      {data !== undefined && data.deadLetters.length === 0 && <p class="muted">None.</p>}
      {data !== undefined && data.deadLetters.length > 0 && (
        <table class="dead-letters">
          <thead>
            <tr>
              <th>event</th>
              <th>key</th>
              <th>type</th>
              <th>stream</th>
              <th>attempts</th>
              <th>recorded</th>
              <th>error</th>
            </tr>
          </thead>
          <tbody>
            {data.deadLetters.map((l) => (
              <tr key={l.id} data-letter={l.id}>
                <td>
                  <Link href={deadLetterPath(l.id)}>{l.eventId}</Link>
                </td>
                <td>{l.key}</td>
                <td>{l.eventType}</td>
                <td>{l.streamId}</td>
                <td>{l.attempts}</td>
                <td>{l.recordedAt}</td>
                <td>{l.error.split('\n')[0]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** One dead letter: its error and stack, the event that failed, and the retry and discard actions. */
export function DeadLetterView(props: { id: string; actionsAllowed: boolean }) {
  const { data, error } = useApi(props.id, () =>
    get<{ deadLetter: DeadLetter; event: EventView }>('dead-letter', { id: props.id }),
  );
  const [, navigate] = useLocation();
  const [actionError, setActionError] = useState<ApiError | Error | undefined>(undefined);
  const act = (action: 'retry' | 'discard') => {
    setActionError(undefined);
    post(`dead-letters/${action}`, { id: props.id }).then(
      () => navigate('/dead-letters'),
      (failure: Error) => setActionError(failure),
    );
  };
  const letter = data?.deadLetter;
  return (
    <section>
      <h2>Dead letter</h2>
      <ErrorNotice error={error} />
      <ErrorNotice error={actionError} />
      {letter !== undefined && (
        <div class="dead-letter">
          <p>
            Skipped by <strong>{letter.key}</strong> (projection {letter.projection}) after {letter.attempts}{' '}
            attempt(s), at {letter.recordedAt}.
          </p>
          <p class="letter-actions">
            <button
              type="button"
              class="retry"
              title="apply the event through the projection again; the letter goes when it succeeds"
              onClick={() => act('retry')}
            >
              Retry
            </button>{' '}
            <button
              type="button"
              class="discard"
              title="remove the letter without applying the event"
              onClick={() => act('discard')}
            >
              Discard
            </button>
            {!props.actionsAllowed && <span class="muted"> This console is read-only.</span>}
          </p>
          <h4>error</h4>
          <pre class="error-text">{letter.error}</pre>
          {letter.stack !== undefined && (
            <>
              <h4>stack</h4>
              <pre class="stack">{letter.stack}</pre>
            </>
          )}
        </div>
      )}
      {data !== undefined && <EventCard event={data.event} />}
    </section>
  );
}
