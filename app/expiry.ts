/**
 * Time-based exits: every minute (an EventBridge schedule in the cloud, a timer locally) the
 * sweeper reads the memberships due for a re-check (`DueStore`, filed when a profile entered an
 * audience whose condition has a history window) and evaluates each at the current time, from
 * everything stored: a member whose qualifying history aged out leaves with `Audience Exited`
 * on the bus; one still in (newer events) is re-filed for its next ageing moment. Nothing is
 * written per event. The same index carries a split's final settle pass (`~split:<splitId>`).
 */
import { has } from '../core/dict';
import { nextAgingAt } from '../core/expiry';
import { splitOfDue } from '../core/split';
import { traitValues } from '../core/profile';
import { audienceChanged, dedupeId, personOf } from '../core/rules/contract';
import { historyWindowMs, isAudience, parseDefinition, RuleSet } from '../core/rules/engine';
import type { Audience } from '../core/rules/schema';
import { loadHistory, storedStateContext } from './evaluate';
import type { Bus, DueItem, DueStore, HistoryStore, PersonalizationStore, ProfileStore, RuleStore } from './ports';
import { resolveSurvivors } from './resolve';

export interface SweepDeps {
  readonly due: DueStore;
  readonly rules: RuleStore;
  readonly store: ProfileStore;
  readonly parts: PersonalizationStore;
  readonly history: HistoryStore;
  readonly bus: Bus;
  readonly now?: () => Date;
  readonly onError?: (item: DueItem, err: unknown) => void;
  /**
   * Runs a split's final settle pass (`finalSettle` in `app/split.ts`), filed in the same index.
   * Absent: such an item fails (stays filed, retried next minute).
   */
  readonly settleSplit?: (keptId: string, splitId: string) => Promise<unknown>;
}

export interface SweepResult {
  readonly checked: number;
  readonly exited: number;
  readonly refiled: number;
}

const MAX_ATTEMPTS = 5;

async function enabledAudiences(rules: RuleStore): Promise<Map<string, Audience>> {
  const out = new Map<string, Audience>();
  for (const doc of await rules.listRuleDocs()) {
    try {
      const def = parseDefinition(doc);
      if (isAudience(def) && def.enabled) out.set(def.id, def);
    } catch {
      // An invalid stored definition is skipped (evaluate logs it).
    }
  }
  return out;
}

/** Re-checks one due membership; what it did. */
async function recheck(d: SweepDeps, audience: Audience | undefined, item: DueItem, nowMs: number): Promise<'exited' | 'refiled' | 'none'> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const resolved = (await resolveSurvivors(d.store, [item.profileId])).get(item.profileId);
    if (!resolved || resolved.profile.id !== item.profileId || !audience) return 'none';
    const profile = resolved.profile;
    const parts = await d.parts.loadParts(profile.id);
    if (!has(parts.audiences, audience.id)) return 'none';
    const history = await loadHistory(d.history, profile, historyWindowMs(audience.condition), nowMs);
    const at = new Date(nowMs).toISOString();
    const trigger = { messageId: `expiry:${audience.id}:${item.dueAt}`, timestamp: item.dueAt };
    const ctx = storedStateContext(profile, parts, history, nowMs, trigger);
    const outcome = new RuleSet([audience]).evaluateAudiences(ctx)[0];
    if (!outcome) return 'none';
    if (outcome.member) {
      const next = nextAgingAt(audience.condition, ctx);
      if (next === undefined) return 'none';
      await d.due.file({ audienceId: audience.id, profileId: profile.id, dueAt: new Date(next).toISOString() });
      return 'refiled';
    }
    const next = { ...parts.audiences };
    delete next[audience.id];
    // As evaluate: publish first (the same dedupe id on a retry), then write the membership.
    await d.bus.publish([
      audienceChanged({
        audienceId: audience.id,
        audienceName: audience.name,
        entered: false,
        profileId: profile.id,
        trigger,
        dedupeId: dedupeId(trigger.messageId, profile.id),
        person: personOf(profile.identifiers, traitValues(profile.traits)),
        trace: outcome.trace,
        at,
      }),
    ]);
    if (await d.parts.saveAudiences(profile.id, next, { previous: parts.audiences, at })) return 'exited';
  }
  throw new Error('audience membership changed concurrently');
}

/** One sweep: every membership due by now re-checked; a failing one stays filed for the next sweep. */
export async function sweepDue(d: SweepDeps): Promise<SweepResult> {
  const nowMs = (d.now?.() ?? new Date()).getTime();
  const items = await d.due.listDue(nowMs);
  let exited = 0;
  let refiled = 0;
  let failed = false;
  const audiences = items.length > 0 ? await enabledAudiences(d.rules) : new Map<string, Audience>();
  for (const item of items) {
    try {
      const splitId = splitOfDue(item.audienceId);
      if (splitId !== undefined) {
        if (!d.settleSplit) throw new Error('no split settler configured');
        await d.settleSplit(item.profileId, splitId);
        await d.due.remove(item);
        continue;
      }
      const r = await recheck(d, audiences.get(item.audienceId), item, nowMs);
      if (r === 'exited') exited++;
      if (r === 'refiled') refiled++;
      await d.due.remove(item);
    } catch (err) {
      failed = true;
      d.onError?.(item, err);
    }
  }
  // The watermark moves on only when everything due was handled (a failure is retried next minute).
  if (!failed) await d.due.markSwept(nowMs);
  return { checked: items.length, exited, refiled };
}
