import { get } from '../api.js';
import { ErrorNotice } from '../components.js';
import { formatDuration } from '../format.js';
import { useApi } from '../use-api.js';

interface OpenTransaction {
  readonly pid: number;
  readonly ageMs: number;
  readonly state: string | undefined;
  readonly query: string | undefined;
  readonly applicationName: string | undefined;
  readonly user: string | undefined;
  readonly database: string | undefined;
  readonly holdsHorizon: boolean;
}

interface HealthAnswer {
  readonly schema: { schema: string; applied: string[]; pending: string[] };
  readonly log:
    | {
        horizon: string;
        oldestRunningTransactionId: string;
        lastVisiblePosition: string | undefined;
        lastCommittedPosition: string | undefined;
        eventsBehindHorizon: number;
        openTransactions: OpenTransaction[];
        preparedTransactions: { gid: string; preparedAt: string; owner: string; database: string }[];
      }
    | undefined;
  readonly at: string;
}

/** Schema version, the horizon and what holds it, open and prepared transactions. */
export function HealthView() {
  const { data, error } = useApi('health', () => get<HealthAnswer>('health'), 2000);
  const log = data?.log;
  const holder = log?.openTransactions.find((t) => t.holdsHorizon);
  return (
    <section>
      <h2>Health</h2>
      <ErrorNotice error={error} />
      {data !== undefined && (
        <dl class="health">
          <dt>schema</dt>
          <dd>
            {data.schema.schema} at {data.schema.applied.at(-1) ?? 'no migration'}
            {data.schema.pending.length === 0
              ? ' (up to date)'
              : `; pending ${data.schema.pending.join(', ')}: run annals migrate`}
          </dd>
          {log !== undefined && (
            <>
              <dt>log</dt>
              <dd>
                last position {log.lastCommittedPosition ?? '-'}, readers see up to{' '}
                {log.lastVisiblePosition ?? '-'}
              </dd>
              <dt>horizon</dt>
              <dd>
                {log.horizon} (oldest running transaction {log.oldestRunningTransactionId});{' '}
                {log.eventsBehindHorizon} event(s) committed above it
              </dd>
              <dt>held by</dt>
              <dd class="holder">
                {holder === undefined
                  ? 'nothing'
                  : `pid ${holder.pid} (${holder.applicationName || 'no application name'}, ${holder.user ?? '?'}@${holder.database ?? '?'}), open ${formatDuration(holder.ageMs)}, ${holder.state ?? '?'}: ${holder.query ?? '?'}`}
              </dd>
            </>
          )}
        </dl>
      )}
      {log !== undefined && log.openTransactions.length > 0 && (
        <>
          <h3>Open transactions</h3>
          <table class="transactions">
            <thead>
              <tr>
                <th>pid</th>
                <th>open for</th>
                <th>state</th>
                <th>application</th>
                <th>holds the horizon</th>
                <th>query</th>
              </tr>
            </thead>
            <tbody>
              {log.openTransactions.map((t) => (
                <tr key={t.pid}>
                  <td>{t.pid}</td>
                  <td>{formatDuration(t.ageMs)}</td>
                  <td>{t.state ?? '?'}</td>
                  <td>{t.applicationName || '-'}</td>
                  <td>{t.holdsHorizon ? 'yes' : 'no'}</td>
                  <td class="query">{t.query ?? '?'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {log !== undefined && log.preparedTransactions.length > 0 && (
        <>
          <h3>Prepared transactions</h3>
          <ul>
            {log.preparedTransactions.map((p) => (
              <li key={p.gid}>
                {p.gid} since {p.preparedAt} ({p.owner}@{p.database})
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
