/**
 * The evaluate use case: run the rules against a newly stored event and its profile, and put
 * the actions that fire on the bus.
 */
import type { ScherpEvent } from '../core/events';
import type { Profile } from '../core/profile';
import { traitValues } from '../core/profile';
import { type Firing, RuleSet } from '../core/rules/engine';
import { createHash } from 'node:crypto';
import type { Bus, BusEntry, ProfileStore } from './ports';
import { resolveSurvivors } from './resolve';

export interface EvaluateDeps {
  readonly store: ProfileStore;
  readonly bus: Bus;
  readonly rules: () => Promise<RuleSet>;
  readonly onRuleError?: (ruleId: string, err: unknown) => void;
}

/** Stable per (event, rule, action): targets drop redeliveries by it. */
export function dedupeId(messageId: string, ruleId: string, actionIndex: number): string {
  return createHash('sha256').update(`${messageId}\u0000${ruleId}\u0000${actionIndex}`).digest('hex').slice(0, 32);
}

export function toBusEntry(f: Firing, event: ScherpEvent, profile: Profile): BusEntry {
  return {
    detailType: f.action.detailType,
    detail: {
      version: '1',
      ruleId: f.ruleId,
      action: f.action.id ?? f.action.detailType,
      profileId: profile.id,
      messageId: event.messageId,
      dedupeId: dedupeId(event.messageId, f.ruleId, f.actionIndex),
      ...f.detail,
      explanation: f.trace.map((t) => ({ path: t.path, op: t.op, expected: t.expected, actual: t.actual })),
    },
  };
}

/** Evaluates the rules for one stored event; returns what was published. */
export async function evaluateEvent(deps: EvaluateDeps, profileId: string, event: ScherpEvent): Promise<BusEntry[]> {
  const ruleSet = await deps.rules();
  if (ruleSet.candidates(event.type, event.event).length === 0) return [];
  const resolved = (await resolveSurvivors(deps.store, [profileId])).get(profileId);
  if (!resolved) return [];
  const profile = resolved.profile;
  const ctx = {
    event: { ...event },
    profile: { id: profile.id, identifiers: [...profile.identifiers], traits: traitValues(profile.traits) },
  };
  const entries = ruleSet.evaluate(ctx, deps.onRuleError).map((f) => toBusEntry(f, event, profile));
  if (entries.length > 0) await deps.bus.publish(entries);
  return entries;
}
