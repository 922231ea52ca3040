/** Health: dead letters of the ingest queue (list, redrive) and rejected events with their reasons. */
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
    } catch (err) {
      setError(err);
    }
  };
  const letters = dlq.data?.deadLetters ?? [];
  return (
    <section>
      <h1>Health</h1>
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
