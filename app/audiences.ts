/**
 * Audiences you can use: list them with exact counts, page through their members, export them
 * for ad platforms (user id, hashed email and phone), and take a profile out of every audience
 * (erasure, a profile merged away). Reads are a fixed number of small items per audience.
 */
import {
  type AudienceSummary,
  csvLine,
  CSV_COLUMNS,
  ExportQuerySchema,
  exportRow,
  type ExportFormat,
  MembersQuerySchema,
  summarise,
} from '../core/audiences';
import { NotFoundError } from '../core/errors';
import { traitValues } from '../core/profile';
import { isAudience, parseDefinition } from '../core/rules/engine';
import { RuleIdSchema, type Audience } from '../core/rules/schema';
import { parseInput } from '../core/validation';
import type { MemberPage, MembershipReader, PersonalizationStore, ProfileStore, RuleStore } from './ports';

export interface AudienceDeps {
  readonly rules: RuleStore;
  readonly members: MembershipReader;
  readonly store: ProfileStore;
  readonly now?: () => Date;
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

/** Members read per page of an export. */
const EXPORT_PAGE = 500;

export interface AudienceExport {
  readonly format: ExportFormat;
  readonly contentType: string;
  readonly body: string;
  readonly rows: number;
}

/**
 * Every member as a row: user id and the hashes ad platforms match on. A member whose profile
 * no longer exists (erased) or was merged away is left out.
 */
export async function exportAudience(d: AudienceDeps, id: string, query: Record<string, string | undefined>): Promise<AudienceExport> {
  const a = await audienceById(d, id);
  const { format } = parseInput(ExportQuerySchema, query, 'export query');
  const lines: string[] = format === 'csv' ? [CSV_COLUMNS.join(',')] : [];
  let rows = 0;
  let cursor: string | undefined;
  do {
    const page = await d.members.listMembers(a.id, EXPORT_PAGE, cursor);
    cursor = page.cursor;
    const profiles = await d.store.getProfiles(page.members.map((m) => m.profileId));
    for (const m of page.members) {
      const p = profiles.get(m.profileId)?.profile;
      if (!p || p.mergedInto) continue;
      const row = exportRow(p.id, p.identifiers, traitValues(p.traits));
      lines.push(format === 'csv' ? csvLine(row) : JSON.stringify(row));
      rows++;
    }
  } while (cursor);
  return {
    format,
    contentType: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
    body: lines.length > 0 ? `${lines.join('\n')}\n` : '',
    rows,
  };
}

const MAX_CLEAR_ATTEMPTS = 5;

/**
 * Takes a profile out of every audience: `PROFILE#AUD` emptied, member items deleted and the
 * counts lowered in the same transaction (before an erasure deletes the partition, and for a
 * profile merged into another). Idempotent: a profile in no audience writes nothing.
 */
export async function clearMemberships(parts: Pick<PersonalizationStore, 'loadParts' | 'saveAudiences'>, profileId: string, at: string) {
  for (let attempt = 0; attempt < MAX_CLEAR_ATTEMPTS; attempt++) {
    const p = await parts.loadParts(profileId);
    if (Object.keys(p.audiences).length === 0) return;
    if (await parts.saveAudiences(profileId, {}, p.audiencesVersion, { previous: p.audiences, at })) return;
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
