import { useEffect, useState } from 'preact/hooks';
import { apiUrl, type EventView } from '../api.js';
import { EventCard } from '../components.js';

const KEPT = 200;

/**
 * The global log live: the latest events, then each new one as it is appended (server-sent events;
 * the browser reconnects on its own and the server resumes after the last event received).
 */
export function LiveView() {
  const [events, setEvents] = useState<EventView[]>([]);
  const [state, setState] = useState<'connecting' | 'live' | 'reconnecting'>('connecting');
  useEffect(() => {
    const source = new EventSource(apiUrl('live', { recent: 20 }));
    source.addEventListener('ready', () => setState('live'));
    source.addEventListener('append', (message) => {
      const event = JSON.parse((message as MessageEvent<string>).data) as EventView;
      setEvents((list) => [event, ...list.filter((e) => e.id !== event.id)].slice(0, KEPT));
    });
    source.onerror = () => setState('reconnecting');
    source.onopen = () => setState('live');
    return () => source.close();
  }, []);
  return (
    <section>
      <h2>
        Live log <span class={`live-state ${state}`}>{state}</span>
      </h2>
      <p class="muted">Newest first; the latest {KEPT} are kept.</p>
      <div class="live-events">
        {events.map((event) => (
          <EventCard key={event.id} event={event} />
        ))}
      </div>
    </section>
  );
}
