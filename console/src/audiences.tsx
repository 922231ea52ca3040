/**
 * Audiences: definitions with `kind: "audience"` (the rules API, admin key) and, where the API
 * has them, their members (`GET /v1/audiences`, `GET /v1/audiences/{id}` and
 * `GET /v1/audiences/{id}/members`): when those routes answer 404 the page says membership is
 * not available and shows the definitions alone.
 */
import { useState } from 'preact/hooks';
import { api, ApiError, type Session } from './api';
import { DefinitionEditor } from './editor';
import { ErrorBox, href, Json, Link, navigate, show, Time, useLoad } from './ui';

interface AudienceDoc {
  id: string;
  kind?: string;
  name?: string;
  description?: string;
  enabled?: boolean;
  condition?: unknown;
}

export interface Membership {
  id: string;
  name?: string;
  count: number;
  entered24h?: number;
  exited24h?: number;
}

/** A member as the members route lists it: a profile id, or an object naming one. */
type Member = string | { profileId?: string; id?: string; enteredAt?: string; since?: string; at?: string };

const NOT_AVAILABLE = 'not-available' as const;

/** The route's answer, or `not-available` when the API has no such route (404). */
async function orNotAvailable<T>(p: Promise<T>): Promise<T | typeof NOT_AVAILABLE> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return NOT_AVAILABLE;
    throw err;
  }
}

function membershipList(body: unknown): Membership[] {
  if (Array.isArray(body)) return body as Membership[];
  const b = body as { audiences?: Membership[] } | undefined;
  return b?.audiences ?? [];
}

const TEMPLATE = {
  description: 'Who is in it, in a sentence.',
  enabled: true,
  condition: { path: 'profile.computed.lifetime_value', op: 'gt', value: 500 },
};

function NotAvailable() {
  return (
    <p class="hint" data-membership="not-available">
      Membership not available: this API does not list audience members yet.
    </p>
  );
}

export function AudiencesPage(props: { session: Session }) {
  const s = props.session;
  const admin = s.role === 'admin';
  const defs = useLoad(() => (admin ? api<{ rules: AudienceDoc[] }>(s, 'GET', '/v1/rules') : Promise.resolve(undefined)), [s.key]);
  const members = useLoad(() => orNotAvailable(api<unknown>(s, 'GET', '/v1/audiences')), [s.key]);
  const [creating, setCreating] = useState(false);
  const audiences = (defs.data?.rules ?? []).filter((r) => r.kind === 'audience');
  const byId = new Map(members.data && members.data !== NOT_AVAILABLE ? membershipList(members.data).map((m) => [m.id, m] as const) : []);
  const ids = admin ? audiences.map((a) => a.id) : [...byId.keys()];
  return (
    <section>
      <h1>Audiences</h1>
      <p class="hint">
        An audience is a named condition over the profile; membership is kept current as events arrive. Definitions are stored with the
        rules (<code>kind: "audience"</code>).
      </p>
      {!admin && <p class="hint">Definitions need the admin key (the rules API is admin-only).</p>}
      <ErrorBox error={defs.error ?? members.error} />
      {members.data === NOT_AVAILABLE && <NotAvailable />}
      {admin && !creating && (
        <button type="button" data-write onClick={() => setCreating(true)}>
          New audience
        </button>
      )}
      {admin && creating && (
        <>
          <h2>New audience</h2>
          <DefinitionEditor
            session={s}
            kind="audience"
            template={TEMPLATE}
            onCancel={() => setCreating(false)}
            onSaved={(def) => {
              setCreating(false);
              navigate(href('audiences', String(def.id)));
            }}
          />
        </>
      )}
      {!defs.loading && ids.length === 0 ? (
        <p class="hint">No audiences yet.</p>
      ) : (
        <table class="audiences">
          <thead>
            <tr>
              <th>id</th>
              <th>name</th>
              <th>enabled</th>
              <th>members</th>
              <th>entered (24 h)</th>
              <th>left (24 h)</th>
              {admin && <th>definition</th>}
            </tr>
          </thead>
          <tbody>
            {ids.map((id) => {
              const a = audiences.find((x) => x.id === id);
              const m = byId.get(id);
              const na = members.data === NOT_AVAILABLE ? 'n/a' : '…';
              return (
                <tr data-audience={id}>
                  <td>
                    <Link href={href('audiences', id)}>{id}</Link>
                  </td>
                  <td>{show(a?.name ?? m?.name ?? '')}</td>
                  <td>{a ? (a.enabled === false ? 'disabled' : 'enabled') : '—'}</td>
                  <td data-count>{m ? m.count : na}</td>
                  <td>{m?.entered24h ?? (m ? '—' : na)}</td>
                  <td>{m?.exited24h ?? (m ? '—' : na)}</td>
                  {admin && <td class="value">{a ? JSON.stringify(a.condition) : '—'}</td>}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

function memberId(m: Member): string {
  return typeof m === 'string' ? m : (m.profileId ?? m.id ?? JSON.stringify(m));
}

function memberSince(m: Member): string | undefined {
  return typeof m === 'string' ? undefined : (m.enteredAt ?? m.since ?? m.at);
}

function Members(props: { session: Session; id: string }) {
  const s = props.session;
  const path = `/v1/audiences/${encodeURIComponent(props.id)}`;
  const summary = useLoad(() => orNotAvailable(api<Membership>(s, 'GET', path)), [props.id, s.key]);
  const [pages, setPages] = useState<{ members: Member[]; cursor?: string }[]>([]);
  const [error, setError] = useState<unknown>();
  const first = useLoad(
    () => orNotAvailable(api<{ members: Member[]; cursor?: string }>(s, 'GET', `${path}/members?limit=50`)),
    [props.id, s.key],
  );
  if (summary.data === NOT_AVAILABLE || first.data === NOT_AVAILABLE) return <NotAvailable />;
  const all = [...(first.data?.members ?? []), ...pages.flatMap((p) => p.members)];
  const cursor = pages.length > 0 ? pages[pages.length - 1]!.cursor : first.data?.cursor;
  return (
    <div class="members">
      <ErrorBox error={summary.error ?? first.error ?? error} />
      {summary.data && (
        <p data-membership="available">
          <strong data-count>{summary.data.count}</strong> members
          {summary.data.entered24h !== undefined && ` · ${summary.data.entered24h} entered`}
          {summary.data.exited24h !== undefined && ` · ${summary.data.exited24h} left`}
          {(summary.data.entered24h !== undefined || summary.data.exited24h !== undefined) && ' in the last 24 hours'}
        </p>
      )}
      {all.length > 0 && (
        <ol class="member-list">
          {all.map((m) => (
            <li>
              <Link href={href('profiles', memberId(m))}>{memberId(m)}</Link>
              {memberSince(m) && (
                <>
                  {' '}
                  since <Time iso={memberSince(m)} />
                </>
              )}
            </li>
          ))}
        </ol>
      )}
      {first.data && all.length === 0 && <p class="hint">No members now.</p>}
      {cursor && (
        <button
          type="button"
          onClick={async () => {
            try {
              const next = await api<{ members: Member[]; cursor?: string }>(
                s,
                'GET',
                `${path}/members?limit=50&cursor=${encodeURIComponent(cursor)}`,
              );
              setPages((p) => [...p, next]);
            } catch (err) {
              setError(err);
            }
          }}
        >
          More members
        </button>
      )}
    </div>
  );
}

export function AudiencePage(props: { session: Session; id: string }) {
  const s = props.session;
  const admin = s.role === 'admin';
  const def = useLoad(
    () => (admin ? api<Record<string, unknown>>(s, 'GET', `/v1/rules/${encodeURIComponent(props.id)}`) : Promise.resolve(undefined)),
    [props.id, s.key],
  );
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState<string>();
  const notAudience = def.data && def.data.kind !== 'audience';
  return (
    <section>
      <p>
        <Link href={href('audiences')}>← Audiences</Link>
      </p>
      <h1>
        Audience <code>{props.id}</code>
      </h1>
      {def.data?.name !== undefined && <p class="lead">{show(def.data.name)}</p>}
      <h2>Members</h2>
      <Members session={s} id={props.id} />
      <h2>Definition</h2>
      {!admin && <p class="hint">The definition needs the admin key (the rules API is admin-only).</p>}
      <ErrorBox error={def.error} />
      {notAudience && (
        <p class="hint">
          <code>{props.id}</code> is a rule, not an audience: see <Link href={href('rules', props.id)}>its rule page</Link>.
        </p>
      )}
      {saved && <p role="status">{saved}</p>}
      {def.data && !editing && (
        <>
          <Json value={def.data} />
          {admin && !notAudience && (
            <button type="button" data-write onClick={() => setEditing(true)}>
              Edit definition
            </button>
          )}
        </>
      )}
      {def.data && editing && (
        <DefinitionEditor
          session={s}
          kind="audience"
          definition={def.data}
          onCancel={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            setSaved('Saved. Membership follows the new definition as events arrive.');
            def.reload();
          }}
        />
      )}
    </section>
  );
}
