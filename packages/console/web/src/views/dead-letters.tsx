import { Link } from 'wouter-preact';
import { type EventView, get } from '../api.js';
import { ErrorNotice, EventCard } from '../components.js';
import { deadLetterPath } from '../links.js';
import { useApi } from '../use-api.js';

interface DeadLetter {
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
              <tr key={`${l.key}/${l.eventId}`}>
                <td>
                  <Link href={deadLetterPath(l.eventId, l.key)}>{l.eventId}</Link>
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

/** One dead letter: its error and stack, and the event that failed. */
export function DeadLetterView(props: { eventId: string; letterKey: string; actionsAllowed: boolean }) {
  const { data, error } = useApi(`${props.eventId}\u0000${props.letterKey}`, () =>
    get<{ deadLetters: DeadLetter[]; event: EventView }>('dead-letter', {
      event: props.eventId,
      key: props.letterKey,
    }),
  );
  const letter = data?.deadLetters[0];
  return (
    <section>
      <h2>Dead letter</h2>
      <ErrorNotice error={error} />
      {letter !== undefined && (
        <div class="dead-letter">
          <p>
            Skipped by <strong>{letter.key}</strong> (projection {letter.projection}) after {letter.attempts}{' '}
            attempt(s), at {letter.recordedAt}.
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
