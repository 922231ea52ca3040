/** The Scherp console: sign-in, navigation and the pages, all from the public API. */
import { render } from 'preact';
import { useState } from 'preact/hooks';
import { loadSession, roleOf, saveSession, type Session } from './api';
import { AudiencePage, AudiencesPage } from './audiences';
import { LiveEventsPage } from './events';
import { HealthPage } from './health';
import { Overview } from './overview';
import { ProfilePage, ProfileSearch } from './profiles';
import { RulePage, RulesPage } from './rules';
import { SourcesPage } from './sources';
import { ErrorBox, href, Link, useRoute } from './ui';
import './styles.css';

function SignIn(props: { onSignIn: (s: Session) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  return (
    <main class="signin">
      <h1>Scherp console</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(undefined);
          try {
            const role = await roleOf(key.trim());
            if (!role) return setError('This is neither the admin key nor the read key.');
            const s = { key: key.trim(), role };
            saveSession(s);
            props.onSignIn(s);
          } catch (err) {
            setError(`The API did not answer: ${(err as Error).message}`);
          } finally {
            setBusy(false);
          }
        }}
      >
        <label for="key">Admin key or read key</label>
        <input
          id="key"
          name="key"
          type="password"
          autocomplete="off"
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          required
          autofocus
        />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        <p class="hint">
          The key stays in this tab (session storage) and is sent as HTTP Basic auth. The read key shows everything but changes nothing.
        </p>
        <ErrorBox error={error} />
      </form>
    </main>
  );
}

const NAV: [string, string][] = [
  ['', 'Overview'],
  ['profiles', 'Profiles'],
  ['events', 'Live events'],
  ['audiences', 'Audiences'],
  ['rules', 'Rules'],
  ['sources', 'Sources and keys'],
  ['health', 'Health'],
];

function Page(props: { route: string[]; session: Session }) {
  const [first, second] = props.route;
  const s = props.session;
  if (!first || first === 'overview') return <Overview session={s} />;
  if (first === 'profiles') return second ? <ProfilePage id={second} session={s} /> : <ProfileSearch session={s} />;
  if (first === 'rules') return second ? <RulePage id={second} session={s} /> : <RulesPage session={s} />;
  if (first === 'audiences') return second ? <AudiencePage id={second} session={s} /> : <AudiencesPage session={s} />;
  if (first === 'sources') return <SourcesPage session={s} />;
  if (first === 'health') return <HealthPage session={s} />;
  if (first === 'events') return <LiveEventsPage session={s} />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no console page here. <Link href={href()}>Overview</Link>
      </p>
    </section>
  );
}

function App() {
  const [session, setSession] = useState(loadSession());
  const route = useRoute();
  if (!session) return <SignIn onSignIn={setSession} />;
  return (
    <div class="shell">
      <header>
        <span class="brand">Scherp</span>
        <nav aria-label="Pages">
          {NAV.map(([path, label]) => (
            <Link
              href={path ? href(path) : `${href()}`}
              class={(route[0] === 'overview' ? '' : (route[0] ?? '')) === path ? 'current' : undefined}
            >
              {label}
            </Link>
          ))}
        </nav>
        <span class="role" data-role={session.role}>
          {session.role === 'admin' ? 'admin key' : 'read key (read-only)'}
        </span>
        <button
          type="button"
          class="link"
          onClick={() => {
            saveSession(undefined);
            setSession(undefined);
          }}
        >
          Sign out
        </button>
      </header>
      <main>
        <Page route={route} session={session} />
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
