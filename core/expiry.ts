/**
 * Time-based exits: the earliest moment a condition's truth can change without a new event,
 * because a history window ages past an event. Membership is re-checked then (the sweeper,
 * `app/expiry.ts`), never per event. Pure.
 *
 * Per history condition, evaluated now: with `atLeast` only, the count stays at or above it
 * until the `atLeast`-th newest matching event leaves the window (if it is below, ageing cannot
 * make it true); with `atMost`, any matching event leaving the window lowers the count, so the
 * oldest one's exit. The truth of every condition is constant until the earliest of those.
 */
import type { ScherpEvent } from './events';
import { type EvaluationContext, historyMatches, type Scope } from './rules/engine';
import { type Condition, durationMs } from './rules/schema';

/** Epoch ms of the next moment ageing can change the condition (after `ctx.now`), or undefined. */
export function nextAgingAt(cond: Condition, ctx: EvaluationContext): number | undefined {
  const scope: Scope = { event: ctx.event, profile: ctx.profile, match: {} };
  const now = ctx.now ?? Date.now();
  let best: number | undefined;
  const visit = (c: Condition) => {
    if ('all' in c) return c.all.forEach(visit);
    if ('any' in c) return c.any.forEach(visit);
    if ('not' in c) return visit(c.not);
    if (!('history' in c)) return;
    const h = c.history;
    const times = historyMatches(h, scope, ctx)
      .map((e: ScherpEvent) => Date.parse(e.timestamp))
      .sort((a, b) => b - a);
    let pivot: number | undefined;
    if (h.atMost !== undefined) pivot = times[times.length - 1];
    else if (h.atLeast !== undefined && h.atLeast > 0 && times.length >= h.atLeast) pivot = times[h.atLeast - 1];
    if (pivot === undefined) return;
    // An event at exactly `now − within` still counts: it leaves the window a millisecond later.
    const at = pivot + durationMs(h.within) + 1;
    if (at > now && (best === undefined || at < best)) best = at;
  };
  visit(cond);
  return best;
}

/** The minute bucket (`yyyy-mm-ddThh:mm`) a due time is filed under. */
export function minuteOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16);
}

/** The minute buckets from `fromMs` through `toMs` (at most `max`, the newest kept). */
export function minutesBetween(fromMs: number, toMs: number, max = 1440): string[] {
  const out: string[] = [];
  const start = Math.floor(fromMs / 60_000) * 60_000;
  for (let t = start; t <= toMs; t += 60_000) out.push(minuteOf(t));
  return out.slice(-max);
}
