import { useState } from 'preact/hooks';
import { Link, Route, Router, Switch } from 'wouter-preact';
import { useHashLocation } from 'wouter-preact/use-hash-location';
import { get, getToken, setToken } from './api.js';
import { ErrorNotice } from './components.js';
import { segmentValue } from './links.js';
import { useApi } from './use-api.js';
import { DeadLettersView, DeadLetterView } from './views/dead-letters.js';
import { EventPage } from './views/event.js';
import { HealthView } from './views/health.js';
import { LiveView } from './views/live.js';
import { ProjectionsView } from './views/projections.js';
import { StreamView } from './views/stream.js';
import { StreamsView } from './views/streams.js';

interface Info {
  readonly schema: string;
  readonly actionsAllowed: boolean;
  readonly projections: string[];
  readonly aggregates: string[];
  readonly definitions: boolean;
}

/** The console: a header with the sections and the token, and the section the hash names. */
export function App() {
  const { data: info, error } = useApi('info', () => get<Info>('info'));
  const actionsAllowed = info?.actionsAllowed ?? false;
  return (
    <Router hook={useHashLocation}>
      <header class="top">
        <h1>Annals</h1>
        <nav>
          <Link href="/">Streams</Link>
          <Link href="/live">Live</Link>
          <Link href="/projections">Projections</Link>
          <Link href="/dead-letters">Dead letters</Link>
          <Link href="/health">Health</Link>
        </nav>
        <span class="schema">{info === undefined ? '' : `schema ${info.schema}`}</span>
        {actionsAllowed ? <TokenField /> : <span class="muted read-only">read-only</span>}
      </header>
      <main>
        <ErrorNotice error={error} />
        <Switch>
          <Route path="/">
            <StreamsView />
          </Route>
          <Route path="/streams/:id">
            {(params) => <StreamView streamId={segmentValue(params.id)} from={undefined} />}
          </Route>
          <Route path="/streams/:id/from/:from">
            {(params) => <StreamView streamId={segmentValue(params.id)} from={params.from} />}
          </Route>
          <Route path="/events/:id">
            {(params) => <EventPage eventId={decodeURIComponent(params.id)} />}
          </Route>
          <Route path="/live">
            <LiveView />
          </Route>
          <Route path="/projections">
            <ProjectionsView actionsAllowed={actionsAllowed} />
          </Route>
          <Route path="/dead-letters">
            <DeadLettersView />
          </Route>
          <Route path="/dead-letters/:id">
            {(params) => <DeadLetterView id={segmentValue(params.id)} actionsAllowed={actionsAllowed} />}
          </Route>
          <Route path="/health">
            <HealthView />
          </Route>
          <Route>
            <p>No such page.</p>
          </Route>
        </Switch>
      </main>
    </Router>
  );
}

/** Where the token actions send is typed; kept for this tab only. */
function TokenField() {
  const [token, setLocal] = useState(getToken());
  return (
    <label class="token">
      token{' '}
      <input
        name="token"
        type="password"
        autoComplete="off"
        value={token}
        onInput={(event) => {
          const value = (event.target as HTMLInputElement).value.trim();
          setLocal(value);
          setToken(value);
        }}
      />
    </label>
  );
}
