/**
 * Rules and audiences: the list with enabled state and fires per day over 14 days, one
 * definition (edit, enable/disable), a dry run with its trace as a tree, and a backtest (a job
 * over every profile: started, then polled until it answers).
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, identifierOf, type Session } from './api';
import { Chart } from './chart';
import { DefinitionEditor } from './editor';
import type { Stats } from './overview';
import { historyWanted, opWords, type TraceEntry, type TraceNode, traceTree, valueText } from './trace';
import { ErrorBox, href, Json, Link, show, Time, useLoad } from './ui';

interface RuleDoc {
  id: string;
  name?: string;
  kind?: string;
  enabled?: boolean;
  trigger?: { types?: string[]; events?: string[] };
  condition?: unknown;
  [k: string]: unknown;
}

interface DryRun {
  id: string;
  kind: string;
  wouldFire: boolean;
  profileId: string | null;
  event: { type: string; event?: string; messageId: string; timestamp: string } | null;
  trace: TraceEntry[];
  actions: { actionId: string; type: string; outcome: string; preview?: unknown }[];
}

interface Backtest {
  id: string;
  from: string;
  to: string;
  profilesScanned: number;
  profilesMatched: number;
  firings: number;
}

/** A backtest job as `GET /v1/jobs/{id}` shows it (`result` once it succeeded). */
interface BacktestJob {
  id: string;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  error?: string;
  progress: { done: number; total: number; profilesScanned: number };
  result?: Backtest;
}

/** How often a running backtest job is asked for its progress. */
const POLL_MS = 500;

const DAY_MS = 86_400_000;
const FIRE_DAYS = 14;
const COLORS = ['#0b57d0', '#b3261e', '#146c2e', '#7b1fa2', '#e37400', '#00838f'];

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The last 14 days of the counters: actions fired per rule per day. */
function useFires(s: Session) {
  return useLoad(() => {
    const now = Date.now();
    return api<Stats>(s, 'GET', `/v1/stats?from=${utcDay(now - (FIRE_DAYS - 1) * DAY_MS)}&to=${utcDay(now)}`);
  }, [s.key]);
}

const firesOf = (stats: Stats | undefined, id: string) => (stats?.days ?? []).map((d) => d.actions[id] ?? 0);
const total = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

function adminOnly(session: Session) {
  return session.role === 'admin' ? null : (
    <section>
      <h1>Rules</h1>
      <p class="hint">Rules need the admin key (the rules API is admin-only).</p>
    </section>
  );
}

const RULE_TEMPLATE = {
  description: 'What it does, in a sentence.',
  enabled: true,
  trigger: { types: ['track'], events: ['Order Completed'] },
  condition: { path: 'event.properties.revenue', op: 'gt', value: 100 },
  actions: [{ type: 'emit', action: 'High Value Order' }],
};

/** Stores the definition with `enabled` flipped (a PUT of the whole definition). */
async function setEnabled(s: Session, rule: RuleDoc, enabled: boolean): Promise<RuleDoc> {
  return api<RuleDoc>(s, 'PUT', `/v1/rules/${encodeURIComponent(rule.id)}`, { ...rule, enabled });
}

function EnableToggle(props: { session: Session; rule: RuleDoc; onChanged: () => void; onError: (e: unknown) => void }) {
  const on = props.rule.enabled !== false;
  return (
    <button
      type="button"
      class="small"
      data-write
      aria-label={`${on ? 'Disable' : 'Enable'} ${props.rule.id}`}
      onClick={async () => {
        try {
          await setEnabled(props.session, props.rule, !on);
          props.onChanged();
        } catch (err) {
          props.onError(err);
        }
      }}
    >
      {on ? 'Disable' : 'Enable'}
    </button>
  );
}

export function RulesPage(props: { session: Session }) {
  const s = props.session;
  const list = useLoad(() => (s.role === 'admin' ? api<{ rules: RuleDoc[] }>(s, 'GET', '/v1/rules') : Promise.resolve(undefined)), [s.key]);
  const fires = useFires(s);
  const [error, setError] = useState<unknown>();
  const [creating, setCreating] = useState(false);
  const refused = adminOnly(s);
  if (refused) return refused;
  const rules = list.data?.rules ?? [];
  const ruleIds = rules.filter((r) => r.kind !== 'audience').map((r) => r.id);
  const charted = ruleIds
    .map((id) => [id, firesOf(fires.data, id)] as const)
    .filter(([, v]) => total(v) > 0)
    .sort((a, b) => total(b[1]) - total(a[1]))
    .slice(0, COLORS.length);
  return (
    <section>
      <h1>Rules</h1>
      <ErrorBox error={list.error ?? fires.error ?? error} />
      {fires.data &&
        (charted.length === 0 ? (
          <p class="hint" data-fires="none">
            No rule fired in the last {FIRE_DAYS} days.
          </p>
        ) : (
          <Chart
            title={`Fires per day, last ${FIRE_DAYS} days`}
            bars
            height={180}
            at={fires.data.days.map((d) => d.at)}
            series={charted.map(([id, values], i) => ({ label: id, values, color: COLORS[i]! }))}
          />
        ))}
      <table>
        <thead>
          <tr>
            <th>id</th>
            <th>name</th>
            <th>kind</th>
            <th>enabled</th>
            <th>trigger</th>
            <th>fires, {FIRE_DAYS} days</th>
          </tr>
        </thead>
        <tbody>
          {rules.map((r) => (
            <tr data-rule={r.id}>
              <td>
                <Link href={href(r.kind === 'audience' ? 'audiences' : 'rules', r.id)}>{r.id}</Link>
              </td>
              <td>{show(r.name ?? '')}</td>
              <td>{r.kind ?? 'rule'}</td>
              <td data-enabled={String(r.enabled !== false)}>
                {r.enabled === false ? 'disabled' : 'enabled'}
                <EnableToggle session={s} rule={r} onChanged={list.reload} onError={setError} />
              </td>
              <td>{[...(r.trigger?.types ?? []), ...(r.trigger?.events ?? [])].join(', ')}</td>
              <td data-fires>{r.kind === 'audience' ? '—' : fires.data ? total(firesOf(fires.data, r.id)) : '…'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {!creating ? (
        <button type="button" data-write onClick={() => setCreating(true)}>
          New rule
        </button>
      ) : (
        <>
          <h2>New rule</h2>
          <DefinitionEditor
            session={s}
            kind="rule"
            template={RULE_TEMPLATE}
            onCancel={() => setCreating(false)}
            onSaved={() => {
              setCreating(false);
              list.reload();
            }}
          />
        </>
      )}
    </section>
  );
}

export function RulePage(props: { id: string; session: Session }) {
  const s = props.session;
  const rule = useLoad(
    () => (s.role === 'admin' ? api<RuleDoc>(s, 'GET', `/v1/rules/${encodeURIComponent(props.id)}`) : Promise.resolve(undefined)),
    [props.id, s.key],
  );
  const fires = useFires(s);
  const [profile, setProfile] = useState('');
  const [result, setResult] = useState<DryRun>();
  const [error, setError] = useState<unknown>();
  const [editing, setEditing] = useState(false);
  const [note, setNote] = useState<string>();
  const refused = adminOnly(s);
  if (refused) return refused;
  const r = rule.data;
  const values = firesOf(fires.data, props.id);
  return (
    <section>
      <p>
        <Link href={href('rules')}>← Rules</Link>
      </p>
      <h1>
        Rule <code>{props.id}</code>
      </h1>
      <ErrorBox error={rule.error ?? error} />
      {note && <p role="status">{note}</p>}
      {r && (
        <p class="row" data-enabled={String(r.enabled !== false)}>
          <strong>{show(r.name ?? '')}</strong>
          <span class="badge">{r.enabled === false ? 'disabled' : 'enabled'}</span>
          <EnableToggle
            session={s}
            rule={r}
            onError={setError}
            onChanged={() => {
              setNote(r.enabled === false ? 'Enabled: it runs on new events again.' : 'Disabled: it no longer runs on new events.');
              rule.reload();
            }}
          />
        </p>
      )}
      {r?.kind !== 'audience' && fires.data && (
        <>
          <Chart
            title={`Fires per day, last ${FIRE_DAYS} days`}
            bars
            height={160}
            at={fires.data.days.map((d) => d.at)}
            series={[{ label: 'actions fired', values, color: COLORS[0]! }]}
          />
          <p class="hint">
            {total(values)} actions fired in the last {FIRE_DAYS} days (UTC days).
          </p>
        </>
      )}
      <h2>Definition</h2>
      {r && !editing && (
        <>
          <Json value={r} />
          <button type="button" data-write onClick={() => setEditing(true)}>
            Edit definition
          </button>
        </>
      )}
      {r && editing && (
        <DefinitionEditor
          session={s}
          kind={r.kind === 'audience' ? 'audience' : 'rule'}
          definition={r}
          onCancel={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            setNote('Saved: new events run the new definition within a few seconds.');
            rule.reload();
          }}
        />
      )}
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
      {result && <DryRunResult result={result} condition={r?.condition} />}
      <BacktestForm session={s} id={props.id} />
    </section>
  );
}

function localInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

function BacktestForm(props: { session: Session; id: string }) {
  const [from, setFrom] = useState(() => localInput(Date.now() - 7 * DAY_MS));
  // The input holds whole minutes: the next one, so events of this minute are inside the window.
  const [to, setTo] = useState(() => localInput(Date.now() + 60_000));
  const [job, setJob] = useState<BacktestJob>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  // The run whose job is polled: a new run (or leaving the page) stops polling the previous one.
  const run = useRef(0);
  useEffect(
    () => () => {
      run.current++;
    },
    [],
  );
  const result = job?.status === 'succeeded' ? job.result : undefined;
  return (
    <>
      <h2>Backtest</h2>
      <form
        class="row"
        onSubmit={async (e) => {
          e.preventDefault();
          const mine = ++run.current;
          setError(undefined);
          setJob(undefined);
          setBusy(true);
          try {
            let j = await api<BacktestJob>(props.session, 'POST', `/v1/rules/${encodeURIComponent(props.id)}/backtest`, {
              from: new Date(from).toISOString(),
              to: new Date(to).toISOString(),
            });
            while (run.current === mine) {
              setJob(j);
              if (j.status !== 'running') break;
              await new Promise((r) => setTimeout(r, POLL_MS));
              j = await api<BacktestJob>(props.session, 'GET', `/v1/jobs/${encodeURIComponent(j.id)}`);
            }
            if (run.current === mine && j.status !== 'succeeded')
              setError(new Error(`the backtest job ${j.status}${j.error ? `: ${j.error}` : ''}`));
          } catch (err) {
            if (run.current === mine) setError(err);
          } finally {
            if (run.current === mine) setBusy(false);
          }
        }}
      >
        <label for="backtest-from">From</label>
        <input id="backtest-from" type="datetime-local" value={from} onInput={(e) => setFrom(e.currentTarget.value)} required />
        <label for="backtest-to">To</label>
        <input id="backtest-to" type="datetime-local" value={to} onInput={(e) => setTo(e.currentTarget.value)} required />
        <button type="submit" disabled={busy}>
          Backtest
        </button>
      </form>
      <p class="hint">
        Replays the stored timelines of that window through the rule (your time zone), for every profile, as a job; fires nothing.
      </p>
      <ErrorBox error={error} />
      {job?.status === 'running' && (
        <p class="hint" role="status" data-backtest-progress>
          Backtest job <code>{job.id}</code> running: {job.progress.done} of {job.progress.total} segments, {job.progress.profilesScanned}{' '}
          profiles so far…
        </p>
      )}
      {result && (
        <div class="backtest" role="status" data-backtest>
          <p>
            From <Time iso={result.from} /> to <Time iso={result.to} />: would have fired <strong data-firings>{result.firings}</strong>{' '}
            times for <strong data-matched>{result.profilesMatched}</strong> of <span data-scanned>{result.profilesScanned}</span> profiles.
          </p>
        </div>
      )}
    </>
  );
}

function Outcome(props: { result?: boolean }) {
  if (props.result === undefined) return <span class="outcome skipped">not evaluated</span>;
  return <span class={`outcome ${props.result ? 'pass' : 'fail'}`}>{props.result ? '✓ true' : '✗ false'}</span>;
}

function Check(props: { entry?: TraceEntry; condition: unknown }) {
  const e = props.entry;
  const c = props.condition as { path?: string; op?: string; value?: unknown; history?: { event?: string } };
  if (!e) {
    return (
      <span class="check">
        {c.history ? (
          <>
            history of <code>{show(c.history.event)}</code>
          </>
        ) : (
          <>
            <code>{show(c.path)}</code> {opWords(String(c.op))} {c.op !== 'exists' && <span class="value">{valueText(c.value)}</span>}
          </>
        )}
      </span>
    );
  }
  if (e.op === 'count') {
    return (
      <span class="check">
        <code>{e.path}</code>: <span class="value actual">{valueText(e.actual)}</span> found, wanted {historyWanted(e.expected)}
      </span>
    );
  }
  return (
    <span class="check">
      <code>{e.path}</code> was <span class="value actual">{valueText(e.actual)}</span>; {opWords(e.op)}
      {e.op !== 'exists' || e.expected !== undefined ? (
        <>
          {' '}
          <span class="value expected">{valueText(e.expected)}</span>
        </>
      ) : null}
      ?
    </span>
  );
}

function Node(props: { node: TraceNode }): ComponentChildren {
  const n = props.node;
  if (n.kind === 'check') {
    return (
      <li class="trace-node" data-result={String(n.result)}>
        <Check entry={n.entry} condition={n.condition} /> <Outcome result={n.result} />
      </li>
    );
  }
  if (n.kind === 'not') {
    return (
      <li class="trace-node" data-result={String(n.result)}>
        <strong>not</strong> <Outcome result={n.result} />
        <ul>
          <Node node={n.child} />
        </ul>
      </li>
    );
  }
  return (
    <li class="trace-node" data-result={String(n.result)}>
      <strong>{n.kind === 'all' ? 'all of' : 'any of'}</strong> <Outcome result={n.result} />
      <ul>
        {n.children.map((c) => (
          <Node node={c} />
        ))}
      </ul>
    </li>
  );
}

function DryRunResult(props: { result: DryRun; condition: unknown }) {
  const r = props.result;
  const tree = traceTree(props.condition, r.trace);
  return (
    <div class="dry-run" role="status">
      <p data-would-fire={String(r.wouldFire)}>
        <strong>{r.wouldFire ? 'Would fire' : 'Would not fire'}</strong>
        {r.event ? (
          <>
            {' '}
            on {r.event.type} {r.event.event ?? ''} (<Time iso={r.event.timestamp} />)
          </>
        ) : (
          ' (no matching event)'
        )}
        {r.profileId && (
          <>
            {' '}
            for <Link href={href('profiles', r.profileId)}>{r.profileId}</Link>
          </>
        )}
      </p>
      {tree && props.condition !== undefined && (
        <ul class="trace-tree" aria-label="Condition trace">
          <Node node={tree} />
        </ul>
      )}
      {props.condition === undefined && r.trace.length === 0 && <p class="hint">No condition: the trigger alone decides.</p>}
      <details open={!tree}>
        <summary>Every comparison ({r.trace.length})</summary>
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
      </details>
      {r.actions.length > 0 && (
        <>
          <h3>Actions</h3>
          <ul>
            {r.actions.map((a) => (
              <li>
                <code>{a.actionId}</code> ({a.type}): {a.outcome}
                {a.preview !== undefined && (
                  <details>
                    <summary>What it would send</summary>
                    <Json value={a.preview} />
                  </details>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
