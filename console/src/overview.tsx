/** Overview: the counters of `GET /v1/stats` (events per hour and per day, merges, actions per rule, top names, rejected). */
import { api, type Session } from './api';
import { Chart } from './chart';
import { ErrorBox, href, Link, useLoad } from './ui';

export interface StatsPoint {
  at: string;
  events: number;
  byType: Record<string, number>;
  merges: number;
  /** Profiles created. */
  profiles: number;
  rejected: number;
  actions: Record<string, number>;
}

export interface Stats {
  from: string;
  to: string;
  hours: StatsPoint[];
  days: StatsPoint[];
  totals: Omit<StatsPoint, 'at'>;
  topEvents: { event: string; count: number }[];
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

function Figure(props: { label: string; value: number; name: string }) {
  return (
    <div class="figure" data-figure={props.name}>
      <span class="figure-value">{props.value.toLocaleString()}</span>
      <span class="figure-label">{props.label}</span>
    </div>
  );
}

export function Overview(props: { session: Session }) {
  const s = props.session;
  const stats = useLoad(() => api<Stats>(s, 'GET', '/v1/stats'), [s.key]);
  const d = stats.data;
  const last48 = d ? d.hours.reduce((n, h) => n + h.events, 0) : 0;
  const rules = d ? Object.entries(d.totals.actions).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)) : [];
  return (
    <section class="overview">
      <h1>Overview</h1>
      <ErrorBox error={stats.error} />
      {stats.loading && !d && <p class="hint">Loading the counters…</p>}
      {d && (
        <>
          <p class="hint">
            {d.from} to {d.to} (UTC days). Counted per batch as events are processed: a few seconds behind.
          </p>
          <div class="figures">
            <Figure name="events-48h" label="events, last 48 h" value={last48} />
            <Figure name="events" label="events, 30 days" value={d.totals.events} />
            <Figure name="profiles" label="new profiles, 30 days" value={d.totals.profiles} />
            <Figure name="identify" label="identify calls, 30 days" value={d.totals.byType.identify ?? 0} />
            <Figure name="merges" label="profile merges, 30 days" value={d.totals.merges} />
            <Figure name="actions" label="actions fired, 30 days" value={sum(d.totals.actions)} />
            <Figure name="rejected" label="rejected events, 30 days" value={d.totals.rejected} />
          </div>
          <div class="charts">
            <Chart
              title="Events per hour, last 48 hours"
              at={d.hours.map((h) => h.at)}
              series={[
                { label: 'events', values: d.hours.map((h) => h.events), color: '#0b57d0' },
                { label: 'rejected', values: d.hours.map((h) => h.rejected), color: '#b3261e' },
              ]}
            />
            <Chart
              title="Events per day, last 30 days"
              bars
              at={d.days.map((h) => h.at)}
              series={[
                { label: 'events', values: d.days.map((h) => h.events), color: '#0b57d0' },
                { label: 'merges', values: d.days.map((h) => h.merges), color: '#7b1fa2' },
              ]}
            />
          </div>
          <div class="columns">
            <div>
              <h2>Actions fired per rule</h2>
              {rules.length === 0 ? (
                <p class="hint">No rule fired in these 30 days.</p>
              ) : (
                <table class="actions-per-rule">
                  <thead>
                    <tr>
                      <th>rule</th>
                      <th>actions</th>
                    </tr>
                  </thead>
                  <tbody>
                    {rules.map(([id, n]) => (
                      <tr data-rule={id}>
                        <td>
                          <Link href={href('rules', id)}>{id}</Link>
                        </td>
                        <td>{n}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
            <div>
              <h2>Top event names</h2>
              {d.topEvents.length === 0 ? (
                <p class="hint">No track events yet.</p>
              ) : (
                <table class="top-events">
                  <thead>
                    <tr>
                      <th>event</th>
                      <th>count</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.topEvents.map((e) => (
                      <tr data-event={e.event}>
                        <td class="value">{e.event}</td>
                        <td>{e.count}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              <p class="hint">
                Counts are lower bounds (each hour keeps its most frequent names); names with an email or a long number count as (other).
              </p>
            </div>
            <div>
              <h2>Rejected events</h2>
              <p>
                <span data-rejected-total>{d.totals.rejected}</span> rejected in these 30 days.{' '}
                {s.role === 'admin' ? (
                  <>
                    Reasons under <Link href={href('health')}>Health</Link>; watch them arrive under{' '}
                    <Link href={href('events')}>Live events</Link>.
                  </>
                ) : (
                  <>
                    Watch them arrive under <Link href={href('events')}>Live events</Link>.
                  </>
                )}
              </p>
            </div>
          </div>
        </>
      )}
    </section>
  );
}
