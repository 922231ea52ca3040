/** Sources and their write keys: list, create, rotate (the new key shown once), revoke. */
import { useState } from 'preact/hooks';
import { api, type Session } from './api';
import { ErrorBox, Time, useLoad } from './ui';

interface SourceKey {
  id: string;
  sourceId: string;
  status: string;
  createdAt: string;
  revokedAt?: string;
}

interface SourceWithKeys {
  source: { id: string; name: string; party: string; trust?: string; createdAt?: string };
  keys: SourceKey[];
}

interface Issued {
  key: SourceKey;
  writeKey: string;
}

function NewKey(props: { issued: Issued; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="new-key" role="status">
      <p>
        New write key for <code>{props.issued.key.sourceId}</code>. It is shown <strong>only now</strong>: copy it.
      </p>
      <output class="secret" data-new-key>
        {props.issued.writeKey}
      </output>
      <button
        type="button"
        onClick={async () => {
          await navigator.clipboard?.writeText(props.issued.writeKey).catch(() => undefined);
          setCopied(true);
        }}
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
      <button type="button" onClick={props.onDone}>
        Done
      </button>
    </div>
  );
}

export function SourcesPage(props: { session: Session }) {
  const s = props.session;
  const admin = s.role === 'admin';
  const list = useLoad(() => (admin ? api<{ sources: SourceWithKeys[] }>(s, 'GET', '/v1/sources') : Promise.resolve(undefined)), [s.key]);
  const [issued, setIssued] = useState<Issued>();
  const [error, setError] = useState<unknown>();
  const [name, setName] = useState('');
  const [party, setParty] = useState('first');
  const [trust, setTrust] = useState('public');
  const act = async (fn: () => Promise<void>) => {
    setError(undefined);
    try {
      await fn();
      list.reload();
    } catch (err) {
      setError(err);
    }
  };
  if (!admin) {
    return (
      <section>
        <h1>Sources and keys</h1>
        <p class="hint">Sources and keys need the admin key.</p>
      </section>
    );
  }
  return (
    <section>
      <h1>Sources and keys</h1>
      {issued && <NewKey issued={issued} onDone={() => setIssued(undefined)} />}
      <ErrorBox error={error ?? list.error} />
      <table>
        <thead>
          <tr>
            <th>source</th>
            <th>name</th>
            <th>party</th>
            <th>trust</th>
            <th>keys</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {(list.data?.sources ?? []).map(({ source, keys }) => (
            <tr data-source={source.name}>
              <td>
                <code>{source.id}</code>
              </td>
              <td>{source.name}</td>
              <td>{source.party}</td>
              <td>{source.trust ?? 'public'}</td>
              <td>
                <ul class="keys">
                  {keys.map((k) => (
                    <li data-key={k.id} data-status={k.status}>
                      <code>{k.id}</code> {k.status}, created <Time iso={k.createdAt} />
                      {k.status === 'active' && (
                        <button
                          type="button"
                          class="danger small"
                          data-write
                          onClick={() =>
                            act(
                              async () =>
                                void (await api(
                                  s,
                                  'DELETE',
                                  `/v1/sources/${encodeURIComponent(source.id)}/keys/${encodeURIComponent(k.id)}`,
                                )),
                            )
                          }
                        >
                          Revoke
                        </button>
                      )}
                    </li>
                  ))}
                </ul>
              </td>
              <td>
                {source.id !== 'default' && (
                  <button
                    type="button"
                    data-write
                    onClick={() =>
                      act(async () => setIssued(await api<Issued>(s, 'POST', `/v1/sources/${encodeURIComponent(source.id)}/keys`)))
                    }
                  >
                    Rotate key
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>New source</h2>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          void act(async () => {
            setIssued(await api<Issued>(s, 'POST', '/v1/sources', { name, party, trust }));
            setName('');
          });
        }}
      >
        <label for="source-name">Name</label>
        <input id="source-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
        <label for="source-party">Party</label>
        <select id="source-party" value={party} onChange={(e) => setParty(e.currentTarget.value)}>
          <option value="first">first</option>
          <option value="second">second</option>
          <option value="third">third</option>
        </select>
        <label for="source-trust">Trust</label>
        <select id="source-trust" value={trust} onChange={(e) => setTrust(e.currentTarget.value)}>
          <option value="public">public (browser or app)</option>
          <option value="trusted">trusted (server)</option>
        </select>
        <button type="submit" data-write>
          Create source
        </button>
      </form>
    </section>
  );
}
