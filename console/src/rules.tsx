/** Rules and audiences: the list, one definition's JSON, and a dry run with its trace. */
import { useState } from 'preact/hooks';
import { api, identifierOf, type Session } from './api';
import { ErrorBox, href, Json, Link, show, useLoad } from './ui';

interface RuleDoc {
  id: string;
  name?: string;
  kind?: string;
  enabled?: boolean;
  trigger?: { events?: string[] };
}

interface DryRun {
  id: string;
  kind: string;
  wouldFire: boolean;
  profileId: string | null;
  event: { type: string; event?: string; messageId: string; timestamp: string } | null;
  trace: { path: string; op: string; expected?: unknown; actual: unknown; result: boolean }[];
  actions: { actionId: string; type: string; outcome: string }[];
}

function adminOnly(session: Session) {
  return session.role === 'admin' ? null : (
    <section>
      <h1>Rules</h1>
      <p class="hint">Rules need the admin key (the rules API is admin-only).</p>
    </section>
  );
}

export function RulesPage(props: { session: Session }) {
  const s = props.session;
  const list = useLoad(() => (s.role === 'admin' ? api<{ rules: RuleDoc[] }>(s, 'GET', '/v1/rules') : Promise.resolve(undefined)), [s.key]);
  const refused = adminOnly(s);
  if (refused) return refused;
  return (
    <section>
      <h1>Rules</h1>
      <ErrorBox error={list.error} />
      <table>
        <thead>
          <tr>
            <th>id</th>
            <th>name</th>
            <th>kind</th>
            <th>enabled</th>
            <th>trigger</th>
          </tr>
        </thead>
        <tbody>
          {(list.data?.rules ?? []).map((r) => (
            <tr data-rule={r.id}>
              <td>
                <Link href={href('rules', r.id)}>{r.id}</Link>
              </td>
              <td>{show(r.name ?? '')}</td>
              <td>{r.kind ?? 'rule'}</td>
              <td>{r.enabled === false ? 'disabled' : 'enabled'}</td>
              <td>{(r.trigger?.events ?? []).join(', ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function RulePage(props: { id: string; session: Session }) {
  const s = props.session;
  const rule = useLoad(
    () => (s.role === 'admin' ? api<RuleDoc>(s, 'GET', `/v1/rules/${encodeURIComponent(props.id)}`) : Promise.resolve(undefined)),
    [props.id, s.key],
  );
  const [profile, setProfile] = useState('');
  const [result, setResult] = useState<DryRun>();
  const [error, setError] = useState<unknown>();
  const refused = adminOnly(s);
  if (refused) return refused;
  return (
    <section>
      <p>
        <Link href={href('rules')}>← Rules</Link>
      </p>
      <h1>
        Rule <code>{props.id}</code>
      </h1>
      <ErrorBox error={rule.error} />
      {rule.data && <Json value={rule.data} />}
      <h2>Dry run</h2>
      <form
        class="row"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(undefined);
          try {
            setResult(await api<DryRun>(s, 'POST', `/v1/rules/${encodeURIComponent(props.id)}/test`, { profile: identifierOf(profile) }));
          } catch (err) {
            setResult(undefined);
            setError(err);
          }
        }}
      >
        <label for="dry-run-profile">Profile</label>
        <input
          id="dry-run-profile"
          value={profile}
          onInput={(e) => setProfile(e.currentTarget.value)}
          placeholder="email:ada@example.com"
          required
        />
        <button type="submit">Dry run</button>
      </form>
      <p class="hint">Runs the rule on the profile's latest matching event; nothing is written or sent.</p>
      <ErrorBox error={error} />
      {result && <DryRunResult result={result} />}
    </section>
  );
}

function DryRunResult(props: { result: DryRun }) {
  const r = props.result;
  return (
    <div class="dry-run" role="status">
      <p data-would-fire={String(r.wouldFire)}>
        <strong>{r.wouldFire ? 'Would fire' : 'Would not fire'}</strong>
        {r.event ? ` on ${r.event.type} ${r.event.event ?? ''} (${r.event.timestamp})` : ' (no matching event)'}
      </p>
      <table class="trace">
        <thead>
          <tr>
            <th>path</th>
            <th>op</th>
            <th>expected</th>
            <th>actual</th>
            <th>result</th>
          </tr>
        </thead>
        <tbody>
          {r.trace.map((t) => (
            <tr class={t.result ? 'pass' : 'fail'}>
              <td>
                <code>{t.path}</code>
              </td>
              <td>{t.op}</td>
              <td class="value">{show(t.expected)}</td>
              <td class="value">{show(t.actual)}</td>
              <td>{t.result ? '✓ true' : '✗ false'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {r.actions.length > 0 && (
        <ul>
          {r.actions.map((a) => (
            <li>
              {a.actionId} ({a.type}): {a.outcome}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
