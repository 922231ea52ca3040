/**
 * The Overview's counters: recording a batch's tally (one update per hour bucket, best effort:
 * a counter never fails the pipeline) and `GET /v1/stats`.
 */
import { ValidationError } from '../core/errors';
import { zodIssues } from '../core/events';
import { addInto, emptyPoint, hourOf, MAX_STATS_DAYS, StatsQuerySchema, topNames, type StatsResponse, type Tally } from '../core/stats';
import type { StatsStore } from './ports';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** Writes a tally: one update per hour it touches (a batch usually touches one). Never throws. */
export async function recordTally(store: StatsStore | undefined, tally: Tally, onError?: (err: unknown) => void): Promise<void> {
  if (!store) return;
  for (const hour of tally.values()) {
    try {
      await store.add(hour);
    } catch (err) {
      onError?.(err);
    }
  }
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** `GET /v1/stats?from=&to=`: per day of the range, per hour of the last 48 h, totals and top event names. */
export async function readStats(
  store: StatsStore,
  rawQuery: Readonly<Record<string, string | undefined>>,
  now: Date,
): Promise<StatsResponse> {
  const parsed = StatsQuerySchema.safeParse(rawQuery);
  if (!parsed.success) {
    const issues = zodIssues(parsed.error, '');
    throw new ValidationError(`invalid query: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, issues);
  }
  const today = day(now.getTime());
  const to = parsed.data.to ?? today;
  const from = parsed.data.from ?? day(Date.parse(to) - (MAX_STATS_DAYS - 2) * DAY_MS);
  const span = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
  if (!(span >= 1 && span <= MAX_STATS_DAYS)) {
    throw new ValidationError(`from must be on or before to, at most ${MAX_STATS_DAYS} days apart`, [
      { path: 'from', message: `must be on or before to, at most ${MAX_STATS_DAYS} days before it` },
    ]);
  }
  const days = Array.from({ length: span }, (_, i) => day(Date.parse(from) + i * DAY_MS));
  // The last 48 hours reach into the day before the range when it ends today.
  const hoursWanted =
    to === today
      ? Array.from({ length: 48 }, (_, i) =>
          hourOf(new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS - (47 - i) * HOUR_MS).toISOString()),
        )
      : [];
  const extra = [...new Set(hoursWanted.map((h) => h.slice(0, 10)))].filter((d) => !days.includes(d));
  const stored = await store.readDays([...days, ...extra]);
  const byHour = new Map(stored.map((h) => [h.hour, h]));
  const dayPoints = new Map(days.map((d) => [d, emptyPoint(d)]));
  const totals = emptyPoint('');
  const names = new Map<string, number>();
  for (const h of stored) {
    const p = dayPoints.get(h.hour.slice(0, 10));
    if (!p) continue;
    addInto(p, h);
    addInto(totals, h);
    for (const [n, c] of Object.entries(h.names)) names.set(n, (names.get(n) ?? 0) + c);
  }
  const hours = hoursWanted.map((hour) => {
    const p = emptyPoint(hour);
    const h = byHour.get(hour);
    if (h) addInto(p, h);
    return p;
  });
  const { at: _at, ...total } = totals;
  return {
    from,
    to,
    hours,
    days: [...dayPoints.values()],
    totals: total,
    topEvents: topNames(names, 20).map(([event, count]) => ({ event, count })),
  };
}
