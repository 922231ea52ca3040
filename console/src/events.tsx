/**
 * Live events: the debugger. Opens a debugger session (renewed before it runs out), polls
 * `GET /v1/debug/events` about every second with the cursor of the last answer, and keeps the
 * entries by id (answers repeat the last few seconds' entries). Filters apply to what is kept.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, type Session } from './api';
import { type DebugEntry, EVENT_TYPES, mergeEntries } from './live';
import { ErrorBox, Json, Time } from './ui';

interface DebugAnswer {
  events: DebugEntry[];
  cursor?: string;
  active: boolean;
  expiresAt?: string;
}

interface SessionAnswer {
  session: { expiresAt: string; ttlSeconds: number };
}

/** How often the page asks for new entries. */
const POLL_MS = 1000;
function parsed(payload: string): unknown {
  try {
    return JSON.parse(payload);
  } catch {
    return payload;
  }
}

export function LiveEventsPage(props: { session: Session }) {
  const s = props.session;
  const [entries, setEntries] = useState<DebugEntry[]>([]);
  const [paused, setPaused] = useState(false);
  const [expiresAt, setExpiresAt] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [type, setType] = useState('');
  const [name, setName] = useState('');
  const [source, setSource] = useState('');
  const [status, setStatus] = useState('');
  const cursor = useRef<string | undefined>(undefined);
  // Bumped when an answer says no session is open (it ran out, or the runtime restarted): opens one again.
  const [reopen, setReopen] = useState(0);
  const openedAt = useRef(0);

  // The session: opened at once, renewed at half its TTL while the page is open and not paused.
  useEffect(() => {
    if (paused) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const open = async () => {
      try {
        openedAt.current = Date.now();
        const r = await api<SessionAnswer>(s, 'POST', '/v1/debug/sessions');
        if (!live) return;
        setExpiresAt(r.session.expiresAt);
        timer = setTimeout(open, Math.max(5, r.session.ttlSeconds / 2) * 1000);
      } catch (err) {
        if (!live) return;
        setError(err);
        timer = setTimeout(open, 10_000);
      }
    };
    void open();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [s.key, paused, reopen]);

  // Polling, one request at a time, about every second.
  useEffect(() => {
    if (paused || !expiresAt) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const q = cursor.current ? `?since=${encodeURIComponent(cursor.current)}&limit=500` : '?limit=200';
        const r = await api<DebugAnswer>(s, 'GET', `/v1/debug/events${q}`);
        if (!live) return;
        cursor.current = r.cursor ?? cursor.current;
        // (not just after opening one: the marker's read may lag its write by a moment)
        if (!r.active && Date.now() - openedAt.current > 5000) setReopen((n) => n + 1);
        if (r.events.length > 0) setEntries((kept) => mergeEntries(kept, r.events));
        setError(undefined);
      } catch (err) {
        if (live) setError(err);
      }
      if (live) timer = setTimeout(poll, POLL_MS);
    };
    void poll();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [s.key, paused, expiresAt !== undefined]);

  const sources = useMemo(() => [...new Set(entries.map((e) => e.sourceId))].sort(), [entries]);
  const shown = entries.filter(
    (e) =>
      (!type || e.type === type) &&
      (!name || (e.event ?? '').toLowerCase().includes(name.toLowerCase())) &&
      (!source || e.sourceId === source) &&
      (!status || e.status === status),
  );
  const rejected = entries.filter((e) => e.status === 'rejected').length;

  return (
    <section class="live">
      <h1>Live events</h1>
      <div class="row" role="status" data-session={expiresAt && !paused ? 'open' : 'closed'}>
        {paused ? (
          <span>Paused: no new events are fetched.</span>
        ) : expiresAt ? (
          <span>
            Watching (debugger session open until <Time iso={expiresAt} />, renewed while this page is open).
          </span>
        ) : (
          <span>Opening a debugger session…</span>
        )}
        <button type="button" onClick={() => setPaused((p) => !p)} aria-pressed={paused}>
          {paused ? 'Resume' : 'Pause'}
        </button>
        <button type="button" onClick={() => setEntries([])}>
          Clear
        </button>
      </div>
      <p class="hint">
        Events received while a debugger session is open: accepted ones and rejected ones with the reason and the failing field. Kept for 15
        minutes.
      </p>
      <ErrorBox error={error} />
      <form class="row filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label for="live-type">Type</label>
        <select id="live-type" value={type} onChange={(e) => setType(e.currentTarget.value)}>
          <option value="">any</option>
          {EVENT_TYPES.map((t) => (
            <option value={t}>{t}</option>
          ))}
        </select>
        <label for="live-name">Event name</label>
        <input id="live-name" value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="Order Completed" />
        <label for="live-source">Source</label>
        <select id="live-source" value={source} onChange={(e) => setSource(e.currentTarget.value)}>
          <option value="">any</option>
          {sources.map((id) => (
            <option value={id}>{id}</option>
          ))}
        </select>
        <label for="live-status">Status</label>
        <select id="live-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
          <option value="">any</option>
          <option value="accepted">accepted</option>
          <option value="rejected">rejected</option>
        </select>
      </form>
      <p class="hint">
        {shown.length} shown of {entries.length} ({rejected} rejected)
      </p>
      {shown.length === 0 ? (
        <p class="hint">No events yet. Send one and it appears here within about a second.</p>
      ) : (
        <ol class="timeline live-events">
          {shown.map((e) => (
            <li key={e.id} data-entry={e.id} data-status={e.status} class={e.status}>
              <details>
                <summary>
                  <Time iso={e.receivedAt} /> <span class="badge">{e.status}</span> <strong>{e.type ?? '(no type)'}</strong>{' '}
                  <span class="event-name">{e.event ?? ''}</span> <span class="hint">source {e.sourceId}</span>{' '}
                  <span class="hint">
                    {e.route} [{e.index}]
                  </span>
                  {e.status === 'rejected' && (
                    <span class="reason">
                      {' '}
                      — <code class="field">{e.field ?? '(request)'}</code>: {e.reason ?? 'rejected'}
                    </span>
                  )}
                </summary>
                {(e.issues?.length ?? 0) > 1 && (
                  <ul>
                    {e.issues!.map((i) => (
                      <li>
                        <code>{i.path}</code>: {i.message}
                      </li>
                    ))}
                  </ul>
                )}
                <Json value={parsed(e.payload)} />
              </details>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
