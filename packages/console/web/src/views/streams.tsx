import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { get } from '../api.js';
import { ErrorNotice } from '../components.js';
import { streamPath } from '../links.js';
import { useApi } from '../use-api.js';

interface StreamSummary {
  readonly streamId: string;
  readonly revision: string;
  readonly updatedAt: string;
}

const PAGE = 50;

/** Streams whose id starts with a prefix, a page at a time. */
export function StreamsView() {
  const [prefix, setPrefix] = useState('');
  const [typed, setTyped] = useState('');
  const [after, setAfter] = useState<string[]>([]);
  const current = after.at(-1);
  const { data, error } = useApi(`${prefix}\u0000${current ?? ''}`, () =>
    get<{ streams: StreamSummary[]; more: boolean }>('streams', { prefix, after: current, limit: PAGE }),
  );
  return (
    <section>
      <h2>Streams</h2>
      <form
        class="search"
        onSubmit={(event) => {
          event.preventDefault();
          setPrefix(typed);
          setAfter([]);
        }}
      >
        <label>
          Stream id starts with{' '}
          <input
            name="prefix"
            value={typed}
            onInput={(event) => setTyped((event.target as HTMLInputElement).value)}
            placeholder="BankAccount-"
          />
        </label>
        <button type="submit">Search</button>
      </form>
      <ErrorNotice error={error} />
      {data !== undefined && (
        <>
          <table class="streams">
            <thead>
              <tr>
                <th>stream</th>
                <th>last revision</th>
                <th>updated</th>
              </tr>
            </thead>
            <tbody>
              {data.streams.map((s) => (
                <tr key={s.streamId}>
                  <td>
                    <Link href={streamPath(s.streamId)}>{s.streamId}</Link>
                  </td>
                  <td>{s.revision}</td>
                  <td>{s.updatedAt}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.streams.length === 0 && (
            <p class="muted">No stream id starts with {JSON.stringify(prefix)}.</p>
          )}
          <nav class="pager">
            {after.length > 0 && (
              <button type="button" onClick={() => setAfter(after.slice(0, -1))}>
                Previous
              </button>
            )}
            {data.more && (
              <button type="button" onClick={() => setAfter([...after, data.streams.at(-1)!.streamId])}>
                Next
              </button>
            )}
          </nav>
        </>
      )}
    </section>
  );
}
