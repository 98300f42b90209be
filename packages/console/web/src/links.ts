/**
 * Route paths. A stream id goes into the path encoded twice: the router decodes the path once
 * (decodeURI), and the view decodes the segment it gets (decodeURIComponent), so any id (with `/`,
 * `%`, `#`, `?`) comes back as it was.
 */
export function streamPath(streamId: string, from?: string): string {
  const base = `/streams/${encodeURIComponent(encodeURIComponent(streamId))}`;
  return from === undefined ? base : `${base}/from/${from}`;
}

/** The value (a stream id, a dead letter's id) of a path segment encoded twice. */
export function segmentValue(segment: string): string {
  return decodeURIComponent(segment);
}

/** The page of one event. */
export function eventPath(eventId: string): string {
  return `/events/${encodeURIComponent(eventId)}`;
}

/** The page of a dead letter, by its id. */
export function deadLetterPath(id: string): string {
  return `/dead-letters/${encodeURIComponent(encodeURIComponent(id))}`;
}
