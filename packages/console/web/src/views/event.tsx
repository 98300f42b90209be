import { type EventView, get } from '../api.js';
import { ErrorNotice, EventCard } from '../components.js';
import { useApi } from '../use-api.js';

/** One event, by id (where correlation and causation links lead). */
export function EventPage(props: { eventId: string }) {
  const { data, error } = useApi(props.eventId, () =>
    get<{ event: EventView }>('event', { id: props.eventId }),
  );
  return (
    <section>
      <h2>Event</h2>
      <ErrorNotice error={error} />
      {data !== undefined && <EventCard event={data.event} />}
    </section>
  );
}
