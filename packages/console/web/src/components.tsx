import type { ComponentChildren } from 'preact';
import { Link } from 'wouter-preact';
import type { ApiError, EventView } from './api.js';
import { looksLikeUuid, prettyJson } from './format.js';
import { eventPath, streamPath } from './links.js';

/** An error from the API, as a notice. */
export function ErrorNotice(props: { error: ApiError | Error | undefined }) {
  if (props.error === undefined) return null;
  const code = 'code' in props.error ? (props.error as ApiError).code : 'ERROR';
  return (
    <p class="error" role="alert">
      <strong>{code}</strong> {props.error.message}
    </p>
  );
}

/** JSON as text in a `<pre>`: Preact escapes it, whatever it holds. */
export function Json(props: { value: unknown; label?: string }) {
  return (
    <pre class="json" data-json={props.label}>
      {prettyJson(props.value)}
    </pre>
  );
}

/** An id that links to its event when it looks like an event id. */
function EventLink(props: { id: unknown }) {
  if (looksLikeUuid(props.id)) return <Link href={eventPath(props.id)}>{props.id}</Link>;
  return <span>{String(props.id)}</span>;
}

function Field(props: { name: string; children: ComponentChildren }) {
  return (
    <>
      <dt>{props.name}</dt>
      <dd>{props.children}</dd>
    </>
  );
}

/** One event: where it is, its type and version as stored and as read, data and metadata. */
export function EventCard(props: { event: EventView; linkStream?: boolean }) {
  const e = props.event;
  const read = e.read;
  const { correlationId, causationId, ...rest } = e.metadata as Record<string, unknown>;
  const upcast =
    read !== undefined &&
    !('error' in read) &&
    (read.type !== e.stored.type || read.schemaVersion !== e.stored.schemaVersion);
  return (
    <article class="event" data-event-id={e.id} data-position={e.position}>
      <header>
        <span class="type">{e.stored.type}</span>
        {props.linkStream === false ? (
          <span class="where">
            {e.streamId}@{e.revision}
          </span>
        ) : (
          <Link class="where" href={streamPath(e.streamId, e.revision)}>
            {e.streamId}@{e.revision}
          </Link>
        )}
        <span class="position">#{e.position}</span>
        <time>{e.recordedAt}</time>
      </header>
      <dl>
        <Field name="id">
          <Link href={eventPath(e.id)}>{e.id}</Link>
        </Field>
        <Field name="stored as">
          {e.stored.type} v{e.stored.schemaVersion}
        </Field>
        <Field name="read as">
          {read === undefined ? (
            <span class="muted">as stored (no definition)</span>
          ) : 'error' in read ? (
            <span class="error">
              {read.error.code}: {read.error.message}
            </span>
          ) : (
            <span class={upcast ? 'upcast' : ''}>
              {read.type} v{read.schemaVersion}
              {upcast ? ' (upcast)' : ''}
            </span>
          )}
        </Field>
        {correlationId !== undefined && (
          <Field name="correlation">
            <EventLink id={correlationId} />
          </Field>
        )}
        {causationId !== undefined && (
          <Field name="causation">
            <EventLink id={causationId} />
          </Field>
        )}
      </dl>
      <h4>data{upcast ? ' (as stored)' : ''}</h4>
      <Json value={e.stored.data} label="data" />
      {upcast && read !== undefined && !('error' in read) && (
        <>
          <h4>data (as read)</h4>
          <Json value={read.data} label="data as read" />
        </>
      )}
      {Object.keys(rest).length > 0 && (
        <>
          <h4>metadata</h4>
          <Json value={rest} label="metadata" />
        </>
      )}
    </article>
  );
}
