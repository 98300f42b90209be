import { useState } from 'preact/hooks';
import { type ApiError, get, post } from '../api.js';
import { ErrorNotice } from '../components.js';
import { formatDuration } from '../format.js';
import { useApi } from '../use-api.js';

interface Overview {
  readonly name: string;
  readonly key: string;
  readonly state: string;
  readonly pausedAt: string | undefined;
  readonly position: string;
  readonly lagEvents: number;
  readonly lagMs: number;
  readonly lagByType: boolean;
  readonly owner: string | undefined;
  readonly leaseExpiresAt: string | undefined;
  readonly deadLetters: number;
}

interface RebuildJob {
  readonly projection: string;
  readonly state: 'running' | 'done' | 'failed' | 'stopped';
  readonly startedBy: string;
  readonly startedAt: string;
  readonly finishedAt: string | undefined;
  readonly error: string | undefined;
  readonly progress:
    | { done: number; total: number; rate: number; etaMs: number; elapsedMs: number }
    | undefined;
}

interface ProjectionsAnswer {
  readonly projections: Overview[];
  readonly configured: { name: string; shards: number; rebuildable: boolean }[];
}

/** Projections: checkpoint, lag, lease, shards, dead letters; rebuilds and their progress. */
export function ProjectionsView(props: { actionsAllowed: boolean }) {
  const { data, error, reload } = useApi('projections', () => get<ProjectionsAnswer>('projections'), 1000);
  const jobs = useApi('rebuilds', () => get<{ rebuilds: RebuildJob[] }>('rebuilds'), 500);
  const [actionError, setActionError] = useState<ApiError | Error | undefined>(undefined);
  const act = (action: 'rebuild' | 'pause' | 'resume', name: string) => {
    setActionError(undefined);
    post(`projections/${action}`, { name }).then(
      () => {
        reload();
        jobs.reload();
      },
      (failure: Error) => setActionError(failure),
    );
  };
  const rebuilds = jobs.data?.rebuilds ?? [];
  // Every projection: those of the config, and those with a checkpoint in the store.
  const names = [
    ...new Set([
      ...(data?.configured ?? []).map((p) => p.name),
      ...(data?.projections ?? []).map((p) => p.name),
    ]),
  ].sort();
  return (
    <section>
      <h2>Projections</h2>
      <ErrorNotice error={error} />
      <ErrorNotice error={actionError} />
      {data !== undefined && (
        <>
          <table class="projections">
            <thead>
              <tr>
                <th>key</th>
                <th>state</th>
                <th>position</th>
                <th>lag (events)</th>
                <th>lag (time)</th>
                <th>owner</th>
                <th>lease expires</th>
                <th>dead letters</th>
              </tr>
            </thead>
            <tbody>
              {data.projections.map((p) => (
                <tr key={p.key} data-key={p.key}>
                  <td>{p.key}</td>
                  <td title={p.pausedAt === undefined ? undefined : `paused at ${p.pausedAt}`}>{p.state}</td>
                  <td>{p.position}</td>
                  <td
                    title={
                      p.lagByType
                        ? 'events of its types'
                        : 'every event (the projection is not in the config)'
                    }
                  >
                    {p.lagEvents}
                    {p.lagByType ? '' : '*'}
                  </td>
                  <td>{p.lagEvents === 0 ? '-' : formatDuration(p.lagMs)}</td>
                  <td>{p.owner ?? '-'}</td>
                  <td>{p.leaseExpiresAt ?? '-'}</td>
                  <td>{p.deadLetters}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Actions</h3>
          {!props.actionsAllowed && (
            <p class="muted">This console is read-only (start it with --allow-actions to allow actions).</p>
          )}
          <ul class="projection-actions">
            {names.map((name) => {
              const configured = data.configured.find((p) => p.name === name);
              const paused = data.projections.some((p) => p.name === name && p.state === 'paused');
              return (
                <li key={name} data-projection={name}>
                  <span class="name">{name}</span>
                  {configured !== undefined && configured.shards > 1 && (
                    <span class="muted"> ({configured.shards} shards)</span>
                  )}{' '}
                  <button
                    type="button"
                    class="rebuild"
                    disabled={configured?.rebuildable !== true}
                    title={
                      configured === undefined
                        ? 'not in the config'
                        : configured.rebuildable
                          ? 'reset it and replay the whole log'
                          : 'it has no reset hook'
                    }
                    onClick={() => act('rebuild', name)}
                  >
                    Rebuild
                  </button>{' '}
                  {paused ? (
                    <button type="button" class="resume" onClick={() => act('resume', name)}>
                      Resume
                    </button>
                  ) : (
                    <button
                      type="button"
                      class="pause"
                      title="every runner lets its batch commit and stops applying it"
                      onClick={() => act('pause', name)}
                    >
                      Pause
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
          {rebuilds.length > 0 && <h3>Rebuilds</h3>}
          {rebuilds.map((job) => (
            <RebuildRow key={job.projection} job={job} />
          ))}
        </>
      )}
    </section>
  );
}

function RebuildRow(props: { job: RebuildJob }) {
  const { job } = props;
  const progress = job.progress;
  return (
    <div class={`rebuild-job ${job.state}`} data-projection={job.projection} data-state={job.state}>
      <strong>{job.projection}</strong> <span class="state">{job.state}</span>{' '}
      <span class="muted">
        started by {job.startedBy} at {job.startedAt}
      </span>
      {progress !== undefined && (
        <div class="progress">
          <progress value={progress.done} max={Math.max(progress.total, 1)} />{' '}
          <span class="progress-text">
            {progress.done}/{progress.total} events, {Math.round(progress.rate)} ev/s
            {job.state === 'running' ? `, ETA ${formatDuration(progress.etaMs)}` : ''}
          </span>
        </div>
      )}
      {job.error !== undefined && <p class="error">{job.error}</p>}
    </div>
  );
}
