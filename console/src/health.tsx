/** Health: queue depths and recent errors (`GET /v1/health`), dead letters of the ingest queue (list, redrive) and rejected events with their reasons. */
import { useState } from 'preact/hooks';
import { api, type Session } from './api';
import { ErrorBox, Json, show, Time, useLoad } from './ui';

interface DeadLetter {
  id: string;
  reason: string;
  receiveCount: number;
  at: string;
  event: { type?: string; messageId?: string; sourceId?: string };
}

interface Health {
  queues: { name: string; visible: number; inFlight: number; deadLetters: number }[];
  recentErrors: { at: string; stage: string; reason: string; sequenceNumber?: string }[];
}

const QUEUE_NAMES: Readonly<Record<string, string>> = {
  ingest: 'Ingest (collect → stitch)',
  'evaluate-stream-failures': 'Evaluate: stream batches given up on',
  'delayed-actions': 'Delayed actions (scheduler)',
};

interface Rejected {
  sourceId: string;
  route: string;
  index: number;
  issues: { path: string; message: string }[];
  limit?: string;
  payload: string;
  receivedAt: string;
}

export function HealthPage(props: { session: Session }) {
  const s = props.session;
  const admin = s.role === 'admin';
  const dlq = useLoad(
    () => (admin ? api<{ deadLetters: DeadLetter[] }>(s, 'GET', '/v1/dlq?limit=100') : Promise.resolve(undefined)),
    [s.key],
  );
  const rejected = useLoad(
    () => (admin ? api<{ rejected: Rejected[] }>(s, 'GET', '/v1/rejected?limit=100') : Promise.resolve(undefined)),
    [s.key],
  );
  const health = useLoad(() => (admin ? api<Health>(s, 'GET', '/v1/health') : Promise.resolve(undefined)), [s.key]);
  const [note, setNote] = useState<string>();
  const [error, setError] = useState<unknown>();
  if (!admin) {
    return (
      <section>
        <h1>Health</h1>
        <p class="hint">Dead letters and rejected events need the admin key.</p>
      </section>
    );
  }
  const redrive = async (ids?: string[]) => {
    setError(undefined);
    try {
      const r = await api<{ redriven: number }>(s, 'POST', '/v1/dlq/redrive', ids ? { ids } : {});
      setNote(`Redriven: ${r.redriven}`);
      dlq.reload();
      health.reload();
    } catch (err) {
      setError(err);
    }
  };
  const letters = dlq.data?.deadLetters ?? [];
  return (
    <section>
      <h1>Health</h1>
      <div class="row">
        <button
          type="button"
          onClick={() => {
            health.reload();
            dlq.reload();
            rejected.reload();
          }}
        >
          Refresh
        </button>
      </div>
      <h2>Queues</h2>
      <ErrorBox error={health.error} />
      {health.data && (
        <table class="queues">
          <thead>
            <tr>
              <th>queue</th>
              <th>waiting</th>
              <th>in flight</th>
              <th>dead letters / failures</th>
            </tr>
          </thead>
          <tbody>
            {health.data.queues.map((q) => (
              <tr data-queue={q.name} class={q.deadLetters > 0 ? 'fail' : undefined}>
                <td>
                  {QUEUE_NAMES[q.name] ?? q.name} <code class="hint">{q.name}</code>
                </td>
                <td data-visible>{q.visible}</td>
                <td data-in-flight>{q.inFlight}</td>
                <td data-dead-letters>{q.deadLetters}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p class="hint">Approximate counts (SQS's, within about a minute in the cloud).</p>
      <h2>Recent errors</h2>
      {health.data &&
        (health.data.recentErrors.length === 0 ? (
          <p class="hint" data-recent-errors="none">
            No evaluation failures waiting for a replay.
          </p>
        ) : (
          <table class="recent-errors">
            <thead>
              <tr>
                <th>at</th>
                <th>stage</th>
                <th>reason</th>
                <th>sequence number</th>
              </tr>
            </thead>
            <tbody>
              {health.data.recentErrors.map((e) => (
                <tr data-recent-error>
                  <td>
                    <Time iso={e.at} />
                  </td>
                  <td>{e.stage}</td>
                  <td class="value">{e.reason}</td>
                  <td>
                    <code>{e.sequenceNumber ?? '—'}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
      <h2>Dead letters</h2>
      <ErrorBox error={error ?? dlq.error} />
      {note && <p role="status">{note}</p>}
      {letters.length === 0 ? (
        <p class="hint">No dead letters.</p>
      ) : (
        <>
          <button type="button" data-write onClick={() => redrive()}>
            Redrive all
          </button>
          <table>
            <thead>
              <tr>
                <th>at</th>
                <th>reason</th>
                <th>receives</th>
                <th>event</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {letters.map((d) => (
                <tr data-dead-letter={d.id}>
                  <td>
                    <Time iso={d.at} />
                  </td>
                  <td>{d.reason}</td>
                  <td>{d.receiveCount}</td>
                  <td>
                    {show(d.event.type)} {show(d.event.messageId)} ({show(d.event.sourceId)})
                  </td>
                  <td>
                    <button type="button" data-write onClick={() => redrive([d.id])}>
                      Redrive
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <h2>Rejected events (last 7 days)</h2>
      <ErrorBox error={rejected.error} />
      {(rejected.data?.rejected ?? []).length === 0 ? (
        <p class="hint">No rejected events.</p>
      ) : (
        <ol class="timeline">
          {(rejected.data?.rejected ?? []).map((r) => (
            <li data-rejected>
              <details>
                <summary>
                  <Time iso={r.receivedAt} /> <code>{r.route}</code> [{r.index}] {r.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}
                  {r.limit ? ` (limit ${r.limit})` : ''} — source {r.sourceId}
                </summary>
                <Json value={parsePayload(r.payload)} />
              </details>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function parsePayload(p: string): unknown {
  try {
    return JSON.parse(p);
  } catch {
    return p;
  }
}
