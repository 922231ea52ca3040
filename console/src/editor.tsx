/**
 * Creating and editing a rule or audience definition: id and name fields and the rest of the
 * definition as JSON, stored with `PUT /v1/rules/{id}`. The API's validation issues (400,
 * `issues: [{ path, message }]`) are shown at the field they name (id, name) or under the
 * editor with their path.
 */
import { useState } from 'preact/hooks';
import { api, ApiError, type Session } from './api';
import { type Issue, placeIssues } from './issues';
import { ErrorBox } from './ui';

export type DefinitionKind = 'rule' | 'audience';

export interface EditorProps {
  readonly session: Session;
  readonly kind: DefinitionKind;
  /** The stored definition when editing (its id is fixed); absent to create one. */
  readonly definition?: Record<string, unknown>;
  /** The JSON offered for a new definition (everything but id, name and kind). */
  readonly template?: Record<string, unknown>;
  readonly onSaved: (def: Record<string, unknown>) => void;
  readonly onCancel?: () => void;
}

/** The definition without the fields that have their own inputs. */
export function editableRest(def: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, name: _name, kind: _kind, ...rest } = def;
  return rest;
}

function FieldIssues(props: { issues: readonly Issue[]; id: string }) {
  if (props.issues.length === 0) return null;
  return (
    <ul class="field-issues" id={props.id} role="alert">
      {props.issues.map((i) => (
        <li data-issue-path={i.path}>
          <code>{i.path}</code>: {i.message}
        </li>
      ))}
    </ul>
  );
}

export function DefinitionEditor(props: EditorProps) {
  const editing = props.definition !== undefined;
  const prefix = `${props.kind}-editor`;
  const [id, setId] = useState(String(props.definition?.id ?? ''));
  const [name, setName] = useState(String(props.definition?.name ?? ''));
  const [text, setText] = useState(JSON.stringify(props.definition ? editableRest(props.definition) : (props.template ?? {}), null, 2));
  const [issues, setIssues] = useState<Issue[]>([]);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const placed = placeIssues(issues);

  const save = async () => {
    setIssues([]);
    setError(undefined);
    let rest: unknown;
    try {
      rest = JSON.parse(text);
    } catch (err) {
      setIssues([{ path: '(JSON)', message: `not valid JSON: ${(err as Error).message}` }]);
      return;
    }
    if (rest === null || typeof rest !== 'object' || Array.isArray(rest)) {
      setIssues([{ path: '(JSON)', message: 'must be a JSON object' }]);
      return;
    }
    const trimmed = id.trim();
    if (!trimmed) {
      setIssues([{ path: 'id', message: 'is required' }]);
      return;
    }
    const body = { ...(rest as Record<string, unknown>), ...(props.kind === 'audience' ? { kind: 'audience' } : {}), id: trimmed, name };
    const path = `/v1/rules/${encodeURIComponent(trimmed)}`;
    setBusy(true);
    try {
      if (!editing) {
        const exists = await api(props.session, 'GET', path).then(
          () => true,
          (err: unknown) => (err instanceof ApiError && err.status === 404 ? false : Promise.reject(err)),
        );
        if (exists) {
          setIssues([{ path: 'id', message: `a rule or audience ${trimmed} exists already: choose another id` }]);
          return;
        }
      }
      props.onSaved(await api<Record<string, unknown>>(props.session, 'PUT', path, body));
    } catch (err) {
      const found = err instanceof ApiError ? (err.body as { issues?: Issue[] } | undefined)?.issues : undefined;
      if (err instanceof ApiError && err.status === 400 && found?.length) setIssues(found);
      else setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      class="editor"
      data-write
      aria-label={editing ? `Edit ${props.kind}` : `New ${props.kind}`}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <div class="field">
        <label for={`${prefix}-id`}>Id</label>
        <input
          id={`${prefix}-id`}
          value={id}
          disabled={editing}
          onInput={(e) => setId(e.currentTarget.value)}
          placeholder="high-value"
          aria-invalid={placed.id.length > 0}
          aria-describedby={`${prefix}-id-issues`}
          required
        />
        <FieldIssues issues={placed.id} id={`${prefix}-id-issues`} />
      </div>
      <div class="field">
        <label for={`${prefix}-name`}>Name</label>
        <input
          id={`${prefix}-name`}
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
          aria-invalid={placed.name.length > 0}
          aria-describedby={`${prefix}-name-issues`}
        />
        <FieldIssues issues={placed.name} id={`${prefix}-name-issues`} />
      </div>
      <div class="field">
        <label for={`${prefix}-json`}>Definition (JSON)</label>
        <span class="hint">Everything but the two fields above; the API checks it when you save.</span>
        <textarea
          id={`${prefix}-json`}
          rows={Math.min(24, Math.max(8, text.split('\n').length + 1))}
          spellcheck={false}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          aria-invalid={placed.body.length > 0}
          aria-describedby={`${prefix}-json-issues`}
        />
        <FieldIssues issues={placed.body} id={`${prefix}-json-issues`} />
      </div>
      <div class="row">
        <button type="submit" disabled={busy}>
          {editing ? 'Save' : `Create ${props.kind}`}
        </button>
        {props.onCancel && (
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
      <ErrorBox error={error} />
    </form>
  );
}
