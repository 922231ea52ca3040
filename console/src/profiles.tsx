/** Profiles: search by any identifier, and one person's page. */
import { useState } from 'preact/hooks';
import { api, ApiError, identifierOf, profilePath, type Session } from './api';
import { download, ErrorBox, href, Json, navigate, show, Time, useLoad } from './ui';

interface Trait {
  value: unknown;
  sourceId: string;
  party?: string;
  trust?: string;
  updatedAt: string;
}

interface Profile {
  id: string;
  identifiers: string[];
  traits: Record<string, Trait>;
  computed: Record<string, unknown>;
  audiences: { id: string; enteredAt: string }[];
  consent: Record<string, unknown>;
  mergedFrom: string[];
}

interface TimelinePage {
  profileId: string;
  events: {
    profileId: string;
    event: Record<string, unknown> & { type?: string; event?: string; name?: string; timestamp?: string; messageId?: string };
  }[];
  cursor?: string;
}

export function ProfileSearch(props: { session: Session; initial?: string }) {
  const [q, setQ] = useState(props.initial ?? '');
  return (
    <section>
      <h1>Profiles</h1>
      {/* biome-ignore lint/a11y/useSemanticElements: <search> is not in Preact's JSX types; the role gives the same landmark */}
      <form
        role="search"
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (q.trim()) navigate(href('profiles', identifierOf(q)));
        }}
      >
        <label for="profile-search">Identifier</label>
        <input
          id="profile-search"
          name="q"
          value={q}
          onInput={(e) => setQ(e.currentTarget.value)}
          placeholder="email:ada@example.com, ada@example.com, user_id:42, +31612345678"
          size={48}
        />
        <button type="submit">Find</button>
      </form>
      <p class="hint">
        Type <code>type:value</code> (user_id, email, phone, anonymous_id, …) or a bare email, phone number or user id. Values are
        normalised as on ingest.
      </p>
    </section>
  );
}

export function ProfilePage(props: { id: string; session: Session }) {
  const { session, id } = props;
  const profile = useLoad(() => api<Profile>(session, 'GET', profilePath(id)), [id, session.key]);
  return (
    <>
      <ProfileSearch session={session} initial={id} />
      {profile.loading && <p>Loading…</p>}
      {profile.error instanceof ApiError && profile.error.status === 404 ? (
        <p class="error" role="alert">
          No profile has the identifier {id}.
        </p>
      ) : (
        <ErrorBox error={profile.error} />
      )}
      {profile.data && <ProfileView profile={profile.data} id={id} session={session} />}
    </>
  );
}

function ProfileView(props: { profile: Profile; id: string; session: Session }) {
  const p = props.profile;
  const traits = Object.entries(p.traits).sort(([a], [b]) => a.localeCompare(b));
  return (
    <article class="profile">
      <h2>
        Profile <code>{p.id}</code>
      </h2>
      {props.session.role === 'admin' && <ProfileActions id={props.id} session={props.session} />}
      <h3>Traits</h3>
      <table>
        <thead>
          <tr>
            <th>trait</th>
            <th>value</th>
            <th>source</th>
            <th>party</th>
            <th>updated</th>
          </tr>
        </thead>
        <tbody>
          {traits.map(([name, t]) => (
            <tr data-trait={name}>
              <td>{name}</td>
              <td class="value">{show(t.value)}</td>
              <td>
                {t.sourceId}
                {t.trust === 'trusted' ? ' (trusted)' : ''}
              </td>
              <td>{t.party ?? '—'}</td>
              <td>
                <Time iso={t.updatedAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Computed traits</h3>
      <KeyValues value={p.computed} />
      <h3>Audiences</h3>
      {p.audiences.length === 0 ? (
        <p class="hint">In no audience.</p>
      ) : (
        <ul>
          {p.audiences.map((a) => (
            <li>
              {a.id}, entered <Time iso={a.enteredAt} />
            </li>
          ))}
        </ul>
      )}
      <h3>Consent</h3>
      <KeyValues value={p.consent} />
      <h3>Identity graph</h3>
      <IdentityGraph profile={p} id={props.id} session={props.session} />
      <h3>Timeline</h3>
      <Timeline key={props.id} id={props.id} session={props.session} />
    </article>
  );
}

function KeyValues(props: { value: Record<string, unknown> }) {
  const entries = Object.entries(props.value ?? {});
  if (entries.length === 0) return <p class="hint">None.</p>;
  return (
    <table>
      <tbody>
        {entries.map(([k, v]) => (
          <tr>
            <td>{k}</td>
            <td class="value">{show(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** What `GET …/identity` explains (the parts drawn here). */
interface Explained {
  profileId: string;
  identifiers: { id: string; linkedAt: string | null; linkedBy: { messageId: string; sourceId: string; timestamp: string } | null }[];
  merges: { id: string; at: string; profiles: string[] }[];
  quarantine?: { at: string; reason: string; count: number; limit: number };
}

/**
 * Identifiers (left) → the profile (middle) ← profiles merged into it (right), from the explain
 * route (each identifier with the event that linked it); the profile itself until it answers.
 * A quarantined profile shows a badge, and admins a release button.
 */
function IdentityGraph(props: { profile: Profile; id: string; session: Session }) {
  const graph = useLoad(() => api<Explained>(props.session, 'GET', profilePath(props.id, '/identity')), [props.id, props.session.key]);
  const [error, setError] = useState<unknown>();
  const g = graph.data;
  const linked = new Map((g?.identifiers ?? []).map((i) => [i.id, i]));
  const p = g
    ? {
        ...props.profile,
        identifiers: g.identifiers.map((i) => i.id),
        mergedFrom: [...new Set(g.merges.flatMap((m) => m.profiles))].filter((x) => x !== g.profileId).sort(),
      }
    : props.profile;
  const rowH = 28;
  const rows = Math.max(p.identifiers.length, p.mergedFrom.length, 1);
  const height = rows * rowH + 20;
  const mid = height / 2;
  const clip = (s: string) => (s.length > 38 ? `${s.slice(0, 37)}…` : s);
  return (
    <figure class="graph">
      <svg viewBox={`0 0 900 ${height}`} width="900" height={height} role="img" aria-label={`identity graph of profile ${p.id}`}>
        {p.identifiers.map((idf, i) => {
          const y = 20 + i * rowH;
          return (
            <g class="identifier">
              <line x1="300" y1={y} x2="380" y2={mid} />
              <rect x="4" y={y - 11} width="296" height="22" rx="4" />
              <text x="12" y={y + 5}>
                <title>
                  {idf}
                  {linked.get(idf)?.linkedBy
                    ? ` (linked by ${linked.get(idf)!.linkedBy!.messageId} from ${linked.get(idf)!.linkedBy!.sourceId})`
                    : ''}
                </title>
                {clip(idf)}
              </text>
            </g>
          );
        })}
        <g class="root">
          <rect x="380" y={mid - 16} width="180" height="32" rx="6" />
          <text x="470" y={mid + 5} text-anchor="middle">
            <title>{p.id}</title>
            profile {clip(p.id).slice(0, 14)}
          </text>
        </g>
        {p.mergedFrom.map((m, i) => {
          const y = 20 + i * rowH;
          return (
            <g class="merged">
              <line x1="560" y1={mid} x2="620" y2={y} />
              <rect x="620" y={y - 11} width="276" height="22" rx="4" />
              <text x="628" y={y + 5}>
                <title>{m}</title>
                merged: {clip(m).slice(0, 28)}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption>
        {p.identifiers.length} identifiers; {p.mergedFrom.length === 0 ? 'no merged profiles' : `merged from ${p.mergedFrom.join(', ')}`}
        {g?.quarantine && (
          <>
            {' '}
            <span class="badge quarantined" title={`${g.quarantine.reason}: ${g.quarantine.count} > ${g.quarantine.limit}`}>
              quarantined
            </span>
            {props.session.role === 'admin' && (
              <button
                type="button"
                data-write
                onClick={async () => {
                  try {
                    await api(props.session, 'POST', profilePath(props.id, '/release'));
                    graph.reload();
                  } catch (err) {
                    setError(err);
                  }
                }}
              >
                Release
              </button>
            )}
          </>
        )}
      </figcaption>
      <ErrorBox error={error} />
    </figure>
  );
}

function Timeline(props: { id: string; session: Session }) {
  const [pages, setPages] = useState<TimelinePage[]>([]);
  const [error, setError] = useState<unknown>();
  const first = useLoad(() => api<TimelinePage>(props.session, 'GET', profilePath(props.id, '/events?limit=25')), [props.id]);
  const all = first.data ? [first.data, ...pages] : [];
  const last = all[all.length - 1];
  const events = all.flatMap((pg) => pg.events);
  return (
    <>
      <ErrorBox error={first.error ?? error} />
      {first.data && events.length === 0 && <p class="hint">No events.</p>}
      <ol class="timeline">
        {events.map((e) => (
          <li>
            <details>
              <summary>
                <Time iso={e.event.timestamp} /> <strong>{e.event.type}</strong> {show(e.event.event ?? e.event.name ?? '')}
              </summary>
              <Json value={e.event} />
            </details>
          </li>
        ))}
      </ol>
      {last?.cursor && (
        <button
          type="button"
          onClick={async () => {
            try {
              const next = await api<TimelinePage>(
                props.session,
                'GET',
                profilePath(props.id, `/events?limit=25&cursor=${encodeURIComponent(last.cursor!)}`),
              );
              setPages([...pages, next]);
            } catch (err) {
              setError(err);
            }
          }}
        >
          Older events
        </button>
      )}
    </>
  );
}

function ProfileActions(props: { id: string; session: Session }) {
  const [confirming, setConfirming] = useState(false);
  const [typed, setTyped] = useState('');
  const [result, setResult] = useState<unknown>();
  const [error, setError] = useState<unknown>();
  return (
    <div class="actions">
      <button
        type="button"
        data-write
        onClick={async () => {
          try {
            const doc = await api(props.session, 'GET', profilePath(props.id, '/export'));
            download(`scherp-export-${props.id.replace(/[^a-zA-Z0-9._-]+/g, '_')}.json`, JSON.stringify(doc, null, 2));
          } catch (err) {
            setError(err);
          }
        }}
      >
        Export (JSON)
      </button>
      <button type="button" class="danger" data-write onClick={() => setConfirming(true)}>
        Erase…
      </button>
      {confirming && (
        <form
          class="confirm"
          onSubmit={async (e) => {
            e.preventDefault();
            try {
              setResult(await api(props.session, 'DELETE', profilePath(props.id)));
              setConfirming(false);
            } catch (err) {
              setError(err);
            }
          }}
        >
          <label for="erase-confirm">
            Type <code>{props.id}</code> to erase this person and everything stored about them
          </label>
          <input id="erase-confirm" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} autocomplete="off" />
          <button type="submit" class="danger" disabled={typed !== props.id}>
            Erase for good
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </form>
      )}
      {result !== undefined && (
        <div role="status">
          <p>Erased.</p>
          <Json value={result} />
        </div>
      )}
      <ErrorBox error={error} />
    </div>
  );
}
