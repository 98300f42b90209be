/**
 * Route paths. A stream id goes into the path encoded twice: the router decodes the path once
 * (decodeURI), and the view decodes the segment it gets (decodeURIComponent), so any id (with `/`,
 * `%`, `#`, `?`) comes back as it was.
 */
export function streamPath(streamId: string, from?: string): string {
  const base = `/streams/${encodeURIComponent(encodeURIComponent(streamId))}`;
  return from === undefined ? base : `${base}/from/${from}`;
}

/** The stream id of a `streamPath` segment. */
export function streamIdOf(segment: string): string {
  return decodeURIComponent(segment);
}

/** The page of one event. */
export function eventPath(eventId: string): string {
  return `/events/${encodeURIComponent(eventId)}`;
}

/** The page of a dead letter. */
export function deadLetterPath(eventId: string, key: string): string {
  return `/dead-letters/${encodeURIComponent(eventId)}/${encodeURIComponent(encodeURIComponent(key))}`;
}
