/**
 * Audiences you can use: list them with exact counts, page through their members, export them
 * for ad platforms (user id, hashed email and phone), and take a profile out of every audience
 * (erasure, a profile merged away). Reads are a fixed number of small items per audience.
 */
import { type AudienceSummary, ExportQuerySchema, type ExportFormat, MembersQuerySchema, summarise } from '../core/audiences';
import { LimitExceededError, NotFoundError } from '../core/errors';
import { contentTypeOf, exportBody, exportJob, exportLines } from './job-export';
import { type JobDeps, startJob } from './jobs';
import { isAudience, parseDefinition } from '../core/rules/engine';
import { RuleIdSchema, type Audience } from '../core/rules/schema';
import { parseInput } from '../core/validation';
import type { MemberPage, MembershipReader, PersonalizationStore, ProfileStore, RuleStore } from './ports';

export interface AudienceDeps {
  readonly rules: RuleStore;
  readonly members: MembershipReader;
  readonly store: ProfileStore;
  readonly now?: () => Date;
  /** Largest synchronous export in members. @default SYNC_EXPORT_MAX_MEMBERS */
  readonly syncExportMaxMembers?: number;
}

const nowIso = (d: AudienceDeps) => (d.now?.() ?? new Date()).toISOString();

function asAudience(doc: unknown): Audience | undefined {
  try {
    const def = parseDefinition(doc);
    return isAudience(def) ? def : undefined;
  } catch {
    return undefined;
  }
}

async function audienceById(d: AudienceDeps, id: string): Promise<Audience> {
  const aid = parseInput(RuleIdSchema, id, 'audience id', 'id');
  const a = asAudience(await d.rules.getRuleDoc(aid));
  if (!a) throw new NotFoundError(`no audience ${aid}`);
  return a;
}

export async function listAudiences(d: AudienceDeps): Promise<{ audiences: AudienceSummary[] }> {
  const now = nowIso(d);
  const audiences = (await d.rules.listRuleDocs()).map(asAudience).filter((a): a is Audience => a !== undefined);
  audiences.sort((a, b) => a.id.localeCompare(b.id));
  return { audiences: await Promise.all(audiences.map(async (a) => summarise(a.id, a.name, await d.members.counters(a.id, now), now))) };
}

export async function getAudience(d: AudienceDeps, id: string): Promise<AudienceSummary> {
  const a = await audienceById(d, id);
  const now = nowIso(d);
  return summarise(a.id, a.name, await d.members.counters(a.id, now), now);
}

export async function listMembers(d: AudienceDeps, id: string, query: Record<string, string | undefined>): Promise<MemberPage> {
  const a = await audienceById(d, id);
  const q = parseInput(MembersQuerySchema, query, 'members query');
  return d.members.listMembers(a.id, q.limit, q.cursor);
}

/** Largest synchronous export: members, and bytes (one API response; Lambda answers at most 6 MB). */
export const SYNC_EXPORT_MAX_MEMBERS = 10_000;
export const SYNC_EXPORT_MAX_BYTES = 5 * 1024 * 1024;

export interface AudienceExport {
  readonly format: ExportFormat;
  readonly contentType: string;
  readonly body: string;
  readonly rows: number;
}

function tooLargeToAnswer(id: string, maxMembers: number): LimitExceededError {
  return new LimitExceededError(
    `audience ${id} is too large for one response (more than ${maxMembers} members or ${SYNC_EXPORT_MAX_BYTES} bytes): start an export job with POST /v1/audiences/${id}/export`,
    'syncExportMembers',
  );
}

/**
 * Every member as a row: user id and the hashes ad platforms match on, in one response. A
 * member whose profile no longer exists (erased) or was merged away is left out. An audience
 * over `SYNC_EXPORT_MAX_MEMBERS` (an O(1) count) or whose rows pass `SYNC_EXPORT_MAX_BYTES` is
 * refused (413) naming the export job, which has no limit.
 */
export async function exportAudience(d: AudienceDeps, id: string, query: Record<string, string | undefined>): Promise<AudienceExport> {
  const a = await audienceById(d, id);
  const { format } = parseInput(ExportQuerySchema, query, 'export query');
  const maxMembers = d.syncExportMaxMembers ?? SYNC_EXPORT_MAX_MEMBERS;
  const counted = await d.members.counters(a.id, nowIso(d));
  if (counted.shardCounts.reduce((x, y) => x + y, 0) > maxMembers) throw tooLargeToAnswer(a.id, maxMembers);
  const out = await exportLines(d, format, (limit, c) => d.members.listMembers(a.id, limit, c), undefined, SYNC_EXPORT_MAX_BYTES + 1);
  if (out.cursor !== undefined || out.bytes > SYNC_EXPORT_MAX_BYTES) throw tooLargeToAnswer(a.id, maxMembers);
  return { format, contentType: contentTypeOf(format), body: exportBody(format, out.lines), rows: out.lines.length };
}

/** Starts an export job of an audience's members (`audience-export`, `app/job-export.ts`): files of at most 4 MB. */
export async function startExport(
  d: AudienceDeps & { readonly backfills?: JobDeps },
  id: string,
  query: Record<string, string | undefined>,
) {
  const a = await audienceById(d, id);
  const { format } = parseInput(ExportQuerySchema, query, 'export query');
  if (!d.backfills) throw new NotFoundError('jobs are not configured here');
  return startJob(d.backfills, exportJob(a.id, format));
}

const MAX_CLEAR_ATTEMPTS = 5;

/**
 * Takes a profile out of every audience: its membership items left and the
 * counts lowered in the same transaction (before an erasure deletes the partition, and for a
 * profile merged into another). Idempotent: a profile in no audience writes nothing.
 */
export async function clearMemberships(parts: Pick<PersonalizationStore, 'loadParts' | 'saveAudiences'>, profileId: string, at: string) {
  for (let attempt = 0; attempt < MAX_CLEAR_ATTEMPTS; attempt++) {
    const p = await parts.loadParts(profileId);
    if (Object.keys(p.audiences).length === 0) return;
    if (await parts.saveAudiences(profileId, {}, { previous: p.audiences, at })) return;
  }
  throw new Error('audience membership changed concurrently');
}

/**
 * The profiles a merge absorbed leave their audiences (their member items would otherwise list
 * a profile that is now a pointer). The survivor's membership follows from its own next
 * evaluation, the merging event's included. No bus events: the person did not leave.
 */
export async function leaveMergedAudiences(
  parts: Pick<PersonalizationStore, 'loadParts' | 'saveAudiences'>,
  record: { readonly merged: readonly string[]; readonly at: string },
): Promise<void> {
  for (const id of record.merged) await clearMemberships(parts, id, record.at);
}
