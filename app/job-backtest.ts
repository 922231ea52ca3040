/**
 * The `rule-backtest` job kind: replays the window's trigger events of every stored profile
 * through a rule, each with the timeline as it stood then (profile traits, consent and audiences
 * are today's), segment by segment of a parallel scan of the profile roots. Fires nothing and
 * writes nothing but its checkpoints; the answer (profiles matched, firings) is the sum of the
 * segments' counters, exact whatever the table's size (no cap).
 */
import type { BacktestResult, Job, SegmentState } from '../core/jobs';
import type { Profile } from '../core/profile';
import { type EvaluationContext, historyWindowMs, isAudience, parseDefinition, RuleSet, runRule } from '../core/rules/engine';
import type { Definition } from '../core/rules/schema';
import { contextProfile } from './evaluate';
import { DEFAULT_PAGE_ITEMS, eachConcurrently, type JobSpec, type JobWorker, segmentWork, type WorkerDeps } from './job-work';
import type { HistoryStore, ProfileParts, StoredProfile } from './ports';

/** The job that backtests `def` (stored or inline) over `from` … `to` (ISO-8601, checked). */
export function backtestJob(def: Definition, from: string, to: string, segments?: number): JobSpec {
  return { kind: 'rule-backtest', params: { ruleId: def.id, rule: def, from, to }, ...(segments ? { segments } : {}) };
}

/** Would `def` have fired for this profile within the window (audiences: a member at its end), and how often. */
export async function backtestProfile(
  history: HistoryStore,
  def: Definition,
  set: RuleSet,
  p: Profile,
  parts: ProfileParts,
  window: { readonly from: string; readonly to: string; readonly since: string },
): Promise<{ matched: boolean; firings: number }> {
  const timeline = await history.load([p.id, ...(p.mergedFrom ?? [])], window.since);
  const base = contextProfile(p, parts);
  if (isAudience(def)) {
    const ctx: EvaluationContext = {
      event: { type: 'identify', messageId: 'backtest' },
      profile: base,
      history: timeline,
      now: Date.parse(window.to),
    };
    return { matched: set.evaluateAudiences(ctx)[0]?.member === true, firings: 0 };
  }
  let fired = 0;
  for (const e of timeline) {
    if (e.timestamp < window.from || e.timestamp > window.to || set.candidates(e.type, e.event).length === 0) continue;
    const ctx: EvaluationContext = { event: { ...e }, profile: base, history: timeline, now: Date.parse(e.timestamp) };
    try {
      if (runRule(def, ctx).fired) fired++;
    } catch {
      // A rule that throws on this event does not fire on it.
    }
  }
  return { matched: fired > 0, firings: fired };
}

export const backtestWorker: JobWorker = {
  async prepare(d: WorkerDeps, job: Job) {
    let def: Definition;
    try {
      def = parseDefinition(job.params.rule);
    } catch (err) {
      return `the rule cannot be evaluated: ${(err as Error).message}`;
    }
    const from = String(job.params.from);
    const to = String(job.params.to);
    const set = new RuleSet([def]);
    const window = { from, to, since: new Date(Date.parse(from) - historyWindowMs(def.condition)).toISOString() };
    return segmentWork({
      read: (state, cursor, totalSegments) => d.scanner.scanSegment(state.segment, totalSegments, cursor, d.pageSize ?? DEFAULT_PAGE_ITEMS),
      async work(page) {
        // Profiles the page cut (not held whole): read them.
        const cut = page.profileIds.filter((id) => !page.loaded?.has(id));
        const read = cut.length > 0 ? await d.store.getProfiles(cut) : new Map<string, StoredProfile>();
        let scanned = 0;
        let matched = 0;
        let firings = 0;
        await eachConcurrently(page.profileIds, d.concurrency ?? 16, async (id) => {
          const loaded = page.loaded?.get(id);
          const p = loaded?.stored.profile ?? read.get(id)?.profile;
          if (p && !p.mergedInto) {
            scanned++;
            const parts = loaded?.parts ?? (await d.parts.loadParts(p.id));
            const r = await backtestProfile(d.history, def, set, p, parts, window);
            if (r.matched) matched++;
            firings += r.firings;
          }
          d.onProfile?.(id);
        });
        return { scanned, counts: { matched, firings }, corrupt: page.corrupt, units: cut.length * 2 + scanned };
      },
    });
  },
  result(job: Job, segments: readonly SegmentState[]): BacktestResult {
    const sum = (k: string) => segments.reduce((a, s) => a + (s.counts[k] ?? 0), 0);
    return {
      id: String(job.params.ruleId),
      from: String(job.params.from),
      to: String(job.params.to),
      profilesScanned: segments.reduce((a, s) => a + s.scanned, 0),
      profilesMatched: sum('matched'),
      firings: sum('firings'),
      truncated: false,
    };
  },
};
