/**
 * The admin use cases: sources and their write keys, and the rejected-event log.
 * A write key is returned once, when it is made; only its digest is stored.
 */
import { AlreadyExistsError, NotFoundError, ValidationError } from '../core/errors';
import { parseInput } from '../core/validation';
import {
  DEFAULT_SOURCE,
  isPossibleId,
  keyDigest,
  newKeyId,
  newSourceId,
  newWriteKey,
  NewSourceSchema,
  SourceChangeSchema,
  sourceNameKey,
  sourceTrust,
  type Source,
  type SourceKey,
} from '../core/sources';
import type { RejectedRecord, RejectedStore, SourceStore, SourceWithKeys } from './ports';

export interface SourcesDeps {
  readonly sources: SourceStore;
  readonly now?: () => Date;
}

/** A new key as handed out: the only time the key itself is seen. */
export interface IssuedKey {
  readonly key: SourceKey;
  readonly writeKey: string;
}

function nowIso(deps: SourcesDeps): string {
  return (deps.now ?? (() => new Date()))().toISOString();
}

function issueKey(sourceId: string, at: string): IssuedKey & { digest: string } {
  const writeKey = newWriteKey();
  return { key: { id: newKeyId(), sourceId, status: 'active', createdAt: at }, writeKey, digest: keyDigest(writeKey) };
}

export async function createSource(deps: SourcesDeps, body: unknown): Promise<{ source: Source } & IssuedKey> {
  const input = parseInput(NewSourceSchema, body, 'source');
  // The listing catches sources made before names were claimed; the store's name claim, races.
  const taken = async () =>
    [DEFAULT_SOURCE, ...(await deps.sources.listSources()).map((s) => s.source)].find(
      (s) => sourceNameKey(s.name) === sourceNameKey(input.name),
    );
  const refuse = (holder: Source | undefined): never => {
    throw new AlreadyExistsError(
      `a source named "${input.name}" exists already${holder ? ` (${holder.id})` : ''}: source names are unique, compared case-insensitively; pick another name or delete that source`,
      [{ path: 'name', message: `is taken${holder ? ` by source ${holder.id}` : ''}` }],
    );
  };
  const before = await taken();
  if (before) refuse(before);
  const at = nowIso(deps);
  const { name, party, trust, rateLimit } = input;
  const source: Source = { id: newSourceId(), name, party, trust, ...(rateLimit ? { rateLimit } : {}), createdAt: at };
  const { key, writeKey, digest } = issueKey(source.id, at);
  if (!(await deps.sources.createSource(source, key, digest))) refuse(await taken());
  return { source, key, writeKey };
}

/** Deletes a source: its keys stop working (within the key cache's 60 s), its name is free again. */
export async function deleteSource(deps: SourcesDeps, sourceId: string): Promise<void> {
  refuseDefault(sourceId);
  if (!(await deps.sources.deleteSource(sourceId, nowIso(deps)))) throw new NotFoundError(`no source ${sourceId}`);
}

/** Every source, the bootstrap `default` source first (its key lives in Secrets Manager or the environment). */
export async function listSources(deps: SourcesDeps): Promise<SourceWithKeys[]> {
  const stored = await deps.sources.listSources();
  const listed = stored.map((s) => ({ ...s, source: { ...s.source, trust: sourceTrust(s.source) } }));
  return [{ source: DEFAULT_SOURCE, keys: [] }, ...listed.sort((a, b) => a.source.createdAt.localeCompare(b.source.createdAt))];
}

/** Refuses the bootstrap source (its key lives in Secrets Manager), and answers 404 for an id no source can have. */
function refuseDefault(sourceId: string): void {
  if (!isPossibleId(sourceId)) throw new NotFoundError(`no source ${sourceId.slice(0, 100)}`);
  if (sourceId === DEFAULT_SOURCE.id) {
    throw new ValidationError(
      'the default source uses the bootstrap write key: rotate it in Secrets Manager (or SCHERP_WRITE_KEY locally)',
      [{ path: 'sourceId', message: 'is the bootstrap source' }],
    );
  }
}

/** Adds a key to a source; its older keys stay valid until revoked. */
export async function rotateKey(deps: SourcesDeps, sourceId: string): Promise<IssuedKey> {
  refuseDefault(sourceId);
  const found = await deps.sources.getSource(sourceId);
  if (!found) throw new NotFoundError(`no source ${sourceId}`);
  const { key, writeKey, digest } = issueKey(sourceId, nowIso(deps));
  if (!(await deps.sources.addKey(found.source, key, digest))) throw new NotFoundError(`no source ${sourceId}`);
  return { key, writeKey };
}

/**
 * Changes a source's trust level or rate limit (`PATCH /v1/sources/{id}`). Collect containers
 * see it within the key cache's 60 s.
 */
export async function updateSource(deps: SourcesDeps, sourceId: string, body: unknown): Promise<Source> {
  refuseDefault(sourceId);
  const change = parseInput(SourceChangeSchema, body, 'source change');
  const updated = await deps.sources.updateSource(sourceId, change);
  if (!updated) throw new NotFoundError(`no source ${sourceId}`);
  return { ...updated, trust: sourceTrust(updated) };
}

export async function revokeKey(deps: SourcesDeps, sourceId: string, keyId: string): Promise<void> {
  refuseDefault(sourceId);
  if (!isPossibleId(keyId)) throw new NotFoundError(`source ${sourceId} has no key ${keyId.slice(0, 100)}`);
  if (!(await deps.sources.revokeKey(sourceId, keyId, nowIso(deps)))) throw new NotFoundError(`source ${sourceId} has no key ${keyId}`);
}

export const MAX_REJECTED_PAGE = 500;

export async function listRejected(store: RejectedStore, query: { limit?: string; sourceId?: string }): Promise<RejectedRecord[]> {
  const limit = query.limit === undefined ? 100 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_REJECTED_PAGE) {
    throw new ValidationError(`limit must be an integer from 1 to ${MAX_REJECTED_PAGE}`, [
      { path: 'limit', message: `must be an integer from 1 to ${MAX_REJECTED_PAGE}` },
    ]);
  }
  return store.list({ limit, ...(query.sourceId ? { sourceId: query.sourceId } : {}) });
}
