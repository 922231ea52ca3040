/**
 * The Overview's counters, aggregated in memory per batch (stitch: events, new profiles and merges; evaluate:
 * actions per rule; collect: rejected events per request) and added to one small item per hour
 * with one `ADD` update per batch per hour bucket, never a write per event. Pure: the tallies,
 * their merging, the bounds, and the shapes of `GET /v1/stats` (zod, for the OpenAPI document).
 */
import * as z from 'zod';
import type { EventType } from './events';

/** Event names one batch adds to its hour (its most frequent), and one hour keeps at most (about). */
export const STATS_NAMES_PER_BATCH = 5;
export const STATS_NAMES_PER_HOUR = 30;
/** Event names are counted cut to this many characters (keeps the hour item near 1 KB). */
export const STATS_NAME_CHARS = 40;

/** What one batch adds to one hour: plain counters, by name. */
export interface HourTally {
  /** `yyyy-mm-ddThh` (UTC). */
  readonly hour: string;
  events: number;
  readonly byType: Map<EventType, number>;
  readonly names: Map<string, number>;
  merges: number;
  /** Profiles created (a first event with no known identifier). */
  profiles: number;
  rejected: number;
  readonly actions: Map<string, number>;
}

export type Tally = Map<string, HourTally>;

export const hourOf = (iso: string): string => iso.slice(0, 13);

function bucket(t: Tally, iso: string): HourTally {
  const hour = hourOf(iso);
  let b = t.get(hour);
  if (!b)
    t.set(hour, (b = { hour, events: 0, byType: new Map(), names: new Map(), merges: 0, profiles: 0, rejected: 0, actions: new Map() }));
  return b;
}

const inc = <K>(m: Map<K, number>, k: K, n = 1) => m.set(k, (m.get(k) ?? 0) + n);

/** Counters have no TTL and erasure does not read them: a name that may hold an email or phone number is counted as `(other)`. */
export const OTHER_NAME = '(other)';
export function statsName(event: string): string {
  return /@|\d{6,}/.test(event) ? OTHER_NAME : event.slice(0, STATS_NAME_CHARS);
}

/** Counts one stored event (the merges it caused, whether it created its profile) into the tally, by its receipt hour. */
export function tallyEvent(
  t: Tally,
  e: { readonly type: EventType; readonly event?: string; readonly receivedAt: string },
  merges = 0,
  createdProfile = false,
): void {
  const b = bucket(t, e.receivedAt);
  b.events++;
  inc(b.byType, e.type);
  if (e.type === 'track' && e.event !== undefined) inc(b.names, statsName(e.event));
  b.merges += merges;
  if (createdProfile) b.profiles++;
}

export function tallyRejected(t: Tally, receivedAt: string, n: number): void {
  if (n > 0) bucket(t, receivedAt).rejected += n;
}

export function tallyAction(t: Tally, at: string, ruleId: string): void {
  inc(bucket(t, at).actions, ruleId);
}

/** The `limit` most frequent names of a map (ties: by name), as entries. */
export function topNames(names: ReadonlyMap<string, number>, limit: number): [string, number][] {
  return [...names].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, limit);
}

/** One hour of counters as stored and read back (names: what the hour kept). */
export interface HourCounts {
  readonly hour: string;
  readonly events: number;
  readonly byType: Readonly<Record<string, number>>;
  readonly names: Readonly<Record<string, number>>;
  readonly merges: number;
  readonly profiles: number;
  readonly rejected: number;
  readonly actions: Readonly<Record<string, number>>;
}

/** Sums tallies (what the stored items add up to, before any name cap). */
export function sumTallies(tallies: readonly Tally[]): Map<string, HourCounts> {
  const out = new Map<
    string,
    {
      events: number;
      byType: Record<string, number>;
      names: Record<string, number>;
      merges: number;
      profiles: number;
      rejected: number;
      actions: Record<string, number>;
    }
  >();
  const add = (r: Record<string, number>, k: string, n: number) => (r[k] = (Object.hasOwn(r, k) ? r[k]! : 0) + n);
  for (const t of tallies) {
    for (const b of t.values()) {
      let o = out.get(b.hour);
      if (!o)
        out.set(
          b.hour,
          (o = {
            events: 0,
            byType: Object.create(null),
            names: Object.create(null),
            merges: 0,
            profiles: 0,
            rejected: 0,
            actions: Object.create(null),
          }),
        );
      o.events += b.events;
      o.merges += b.merges;
      o.profiles += b.profiles;
      o.rejected += b.rejected;
      for (const [k, n] of b.byType) add(o.byType, k, n);
      for (const [k, n] of b.names) add(o.names, k, n);
      for (const [k, n] of b.actions) add(o.actions, k, n);
    }
  }
  return new Map([...out].map(([hour, o]) => [hour, { hour, ...o }]));
}

const counts = z.record(z.string(), z.number());

export const StatsQuerySchema = z.object({
  /** First day (yyyy-mm-dd, UTC) of the daily series. @default 29 days before today */
  from: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date yyyy-mm-dd')
    .optional(),
  /** Last day (yyyy-mm-dd). @default today */
  to: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date yyyy-mm-dd')
    .optional(),
});
export type StatsQuery = z.output<typeof StatsQuerySchema>;

/** Most days one `GET /v1/stats` covers. */
export const MAX_STATS_DAYS = 31;

const SeriesPointSchema = z.object({
  /** `yyyy-mm-ddThh` (hours) or `yyyy-mm-dd` (days), UTC. */
  at: z.string(),
  events: z.number(),
  byType: counts,
  merges: z.number(),
  /** Profiles created. */
  profiles: z.number(),
  rejected: z.number(),
  /** Actions fired, by rule id. */
  actions: counts,
});

export const StatsResponseSchema = z.object({
  from: z.string(),
  to: z.string(),
  /** The last 48 hours up to now (only when `to` is today), one point per hour, oldest first. */
  hours: z.array(SeriesPointSchema),
  /** One point per day of the range, oldest first. */
  days: z.array(SeriesPointSchema),
  totals: SeriesPointSchema.omit({ at: true }),
  /** Most frequent track event names of the range (each hour keeps its top names only: counts are lower bounds). */
  topEvents: z.array(z.object({ event: z.string(), count: z.number() })),
});
export type StatsResponse = z.output<typeof StatsResponseSchema>;
export type SeriesPoint = z.output<typeof SeriesPointSchema>;

/** Adds hour counts into a series point (null-prototype records: rule ids and types are keys). */
export function addInto(p: SeriesPoint, h: HourCounts): void {
  p.events += h.events;
  p.merges += h.merges;
  p.profiles += h.profiles;
  p.rejected += h.rejected;
  for (const [k, n] of Object.entries(h.byType)) p.byType[k] = (Object.hasOwn(p.byType, k) ? p.byType[k]! : 0) + n;
  for (const [k, n] of Object.entries(h.actions)) p.actions[k] = (Object.hasOwn(p.actions, k) ? p.actions[k]! : 0) + n;
}

export const emptyPoint = (at: string): SeriesPoint => ({
  at,
  events: 0,
  byType: Object.create(null),
  merges: 0,
  profiles: 0,
  rejected: 0,
  actions: Object.create(null),
});
