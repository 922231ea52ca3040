/**
 * Audience membership as a usable set: what changes between two membership states, the shard
 * of a member, the hourly entered/exited buckets, an audience's summary from its counter items,
 * and the export rows ad platforms take. Pure.
 *
 * Storage (`adapters/dynamo/membership-store.ts`) writes only on a change: a membership item per
 * (profile, audience) put on enter and deleted on exit, and counters updated in the same
 * transaction, so `count` is exact and an O(1) read.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { has } from './dict';
import { hashedIdentity, personOf } from './rules/contract';

/**
 * Members and counters of one audience are spread over this many shards (by profile id), so a
 * backfill that enters a million people writes to 16 counter items and 16 index partitions,
 * never one hot key; a count reads 16 small items in one Query.
 */
export const MEMBER_SHARDS = 16;

/** Items one DynamoDB transaction may hold. */
export const TRANSACTION_ITEMS = 100;

/** Items of a backfill's membership transaction besides the profiles': one count and one hour bucket. */
const BATCH_COUNTER_ITEMS = 2;

/**
 * A backfill's membership changes cut into transactions, each as full as it may be: a change
 * writes its membership item, and a due item when its membership can age out;
 * each transaction adds the count and hour bucket of all its changes (one counter shard). Fewer,
 * fuller transactions: each costs a fixed overhead besides its items.
 */
export function membershipBatches<C extends { readonly dueAt?: string }>(changes: readonly C[]): C[][] {
  const out: C[][] = [];
  let cur: C[] = [];
  let items = BATCH_COUNTER_ITEMS;
  for (const c of changes) {
    const n = c.dueAt === undefined ? 1 : 2;
    if (items + n > TRANSACTION_ITEMS) {
      out.push(cur);
      cur = [];
      items = BATCH_COUNTER_ITEMS;
    }
    cur.push(c);
    items += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** The shard of a profile's member and counter items, 0 … MEMBER_SHARDS − 1. */
export function shardOf(profileId: string): number {
  return createHash('sha256').update(profileId).digest()[0]! % MEMBER_SHARDS;
}

export interface MembershipChange {
  readonly audienceId: string;
  readonly entered: boolean;
}

/** What differs between two membership states (audience id → entered at), sorted by audience id. */
export function membershipChanges(previous: Readonly<Record<string, string>>, next: Readonly<Record<string, string>>): MembershipChange[] {
  const out: MembershipChange[] = [];
  for (const id of Object.keys(next)) if (!has(previous, id)) out.push({ audienceId: id, entered: true });
  for (const id of Object.keys(previous)) if (!has(next, id)) out.push({ audienceId: id, entered: false });
  return out.sort((a, b) => a.audienceId.localeCompare(b.audienceId));
}

/** The hour bucket (`yyyy-mm-ddThh`) of an ISO time. */
export function hourOf(iso: string): string {
  return iso.slice(0, 13);
}

/** The 24 hour buckets ending with the one `nowIso` falls in, oldest first. */
export function last24Hours(nowIso: string): string[] {
  const end = Date.parse(`${hourOf(nowIso)}:00:00.000Z`);
  return Array.from({ length: 24 }, (_, i) => new Date(end - (23 - i) * 3_600_000).toISOString().slice(0, 13));
}

/** Hour buckets are kept this long (TTL), well past the 24 hours a summary reads. */
export const HOUR_BUCKET_TTL_SECONDS = 3 * 86_400;

export interface AudienceSummary {
  readonly id: string;
  readonly name: string;
  /** Exact number of members now. */
  readonly count: number;
  /** Entries and exits over the last 24 hours (whole hours, the current one included). */
  readonly entered24h: number;
  readonly exited24h: number;
}

/** The counter items of one audience as read: per-shard counts and hourly buckets. */
export interface AudienceCounters {
  /** Per counter shard: only their sum is the count (a backfill adds to its worker's shard, so one shard may be negative). */
  readonly shardCounts: readonly number[];
  readonly hours: readonly { readonly hour: string; readonly entered: number; readonly exited: number }[];
}

export function summarise(id: string, name: string, c: AudienceCounters, nowIso: string): AudienceSummary {
  const window = new Set(last24Hours(nowIso));
  let entered = 0;
  let exited = 0;
  for (const h of c.hours) {
    if (!window.has(h.hour)) continue;
    entered += h.entered;
    exited += h.exited;
  }
  return { id, name, count: c.shardCounts.reduce((a, b) => a + b, 0), entered24h: entered, exited24h: exited };
}

/** One exported member, as ad platforms match on it (Customer Match, Custom Audiences). */
export interface ExportRow {
  readonly profileId: string;
  readonly userId?: string;
  /** SHA-256 of the trimmed, lower-cased email. */
  readonly emailSha256?: string;
  /** SHA-256 of the E.164 phone (Google); `phoneDigitsSha256` of its digits only (Meta). */
  readonly phoneSha256?: string;
  readonly phoneDigitsSha256?: string;
}

export function exportRow(profileId: string, identifiers: readonly string[], traits: Record<string, unknown>): ExportRow {
  const person = personOf(identifiers, traits);
  const hashed = hashedIdentity(person) ?? {};
  return { profileId, ...(person.userId ? { userId: person.userId } : {}), ...hashed };
}

export const EXPORT_FORMATS = ['csv', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const CSV_COLUMNS = ['profile_id', 'user_id', 'email_sha256', 'phone_sha256', 'phone_digits_sha256'] as const;

/** A CSV field, quoted when it holds a comma, quote or line break (user ids are free text). */
function csvField(v: string | undefined): string {
  if (v === undefined) return '';
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLine(r: ExportRow): string {
  return [r.profileId, r.userId, r.emailSha256, r.phoneSha256, r.phoneDigitsSha256].map(csvField).join(',');
}

/*
 * The API's shapes, defined once: the handlers validate with them and the OpenAPI document
 * (`core/openapi.ts`) is generated from them.
 */
export const AudienceSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  count: z.number().int().describe('Exact number of members now (an O(1) read of the counters).'),
  entered24h: z.number().int().describe('Entries over the last 24 hours (whole hours, the current one included).'),
  exited24h: z.number().int().describe('Exits over the last 24 hours.'),
});
export const AudienceListSchema = z.object({ audiences: z.array(AudienceSummarySchema) });

export const MAX_MEMBERS_LIMIT = 1000;
export const MembersQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_MEMBERS_LIMIT).default(100),
  cursor: z.string().min(1).max(4000).optional().describe('The cursor of the previous page (opaque).'),
});
export const MemberPageSchema = z.object({
  members: z.array(z.object({ profileId: z.string(), enteredAt: z.string().describe('When the profile entered (ISO-8601).') })),
  cursor: z.string().optional().describe('Absent on the last page.'),
});
export const ExportQuerySchema = z.object({
  format: z.enum(EXPORT_FORMATS).default('ndjson').describe('csv: a header line and one row per member; ndjson: one JSON object per line.'),
});
export const ExportRowSchema = z.object({
  profileId: z.string(),
  userId: z.string().optional(),
  emailSha256: z.string().optional().describe('SHA-256 of the trimmed, lower-cased email.'),
  phoneSha256: z.string().optional().describe('SHA-256 of the E.164 phone (Google Customer Match).'),
  phoneDigitsSha256: z.string().optional().describe('SHA-256 of its digits only (Meta Custom Audiences).'),
});
