/**
 * Rule administration: list, read, store and delete rules and audiences; dry runs (would it
 * fire, with a per-condition trace, changing nothing) and backtests over stored timelines.
 */
import { randomUUID } from 'node:crypto';
import { NotFoundError, ValidationError } from '../core/errors';
import type { ScherpEvent } from '../core/events';
import { EVENT_TYPES } from '../core/events';
import { tooDeepAt } from '../core/depth';
import { MAX_NESTING_DEPTH } from '../core/ingest';
import { newProfile, type Profile } from '../core/profile';
import { traitValues } from '../core/profile';
import { actionTriggered, dedupeId, personOf } from '../core/rules/contract';
import {
  type EvaluationContext,
  historyWindowMs,
  isAudience,
  parseDefinition,
  parseDefinitionAt,
  RuleSet,
  runRule,
  type TraceEntry,
  windowBeyond,
  resolveValue,
  resolveValues,
} from '../core/rules/engine';
import { RuleIdSchema, type Definition } from '../core/rules/schema';
import { parseInput } from '../core/validation';
import { contextProfile, loadHistory } from './evaluate';
import type { HistoryStore, PersonalizationStore, ProfileParts, ProfileStore, RuleStore } from './ports';
import { findProfile } from './profiles';
import { assertNoRunningJob, type BackfillOptions, type JobDeps, startBackfill, startJob } from './jobs';
import { backtestJob } from './job-backtest';
import type { JobView } from '../core/jobs';

export interface RuleAdminDeps {
  readonly rules: RuleStore;
  readonly store: ProfileStore;
  readonly parts: PersonalizationStore;
  readonly history: HistoryStore;
  readonly now?: () => Date;
  /** Days timeline events are kept: a history window longer than this is refused at PUT (absent: not checked). */
  readonly retentionDays?: number;
  /** Jobs: storing an audience starts its backfill, a backtest is a job (absent: no backfill, no backtest). */
  readonly backfills?: JobDeps;
}

const EMPTY_PARTS: ProfileParts = { computed: {}, audiences: {}, consent: {}, consentVersion: 0, recommendations: {} };

export async function listDefinitions(deps: RuleAdminDeps): Promise<{ rules: unknown[] }> {
  const docs = await deps.rules.listRuleDocs();
  return { rules: docs.sort((a, b) => String((a as { id: string }).id).localeCompare(String((b as { id: string }).id))) };
}

/** The `{id}` of a rules route, validated before it reaches the store (a 400 naming `id`). */
function ruleId(id: string): string {
  return parseInput(RuleIdSchema, id, 'rule id', 'id');
}

export async function getDefinition(deps: RuleAdminDeps, id: string): Promise<unknown> {
  const doc = await deps.rules.getRuleDoc(ruleId(id));
  if (doc === undefined) throw new NotFoundError(`no rule ${id}`);
  return doc;
}

/** Validates and stores a rule or audience under `id` (the body's id must match or be absent). */
export async function putDefinition(deps: RuleAdminDeps, id: string, body: unknown): Promise<Definition> {
  ruleId(id);
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new ValidationError('the body must be a rule object', [{ path: '(body)', message: 'must be an object' }]);
  const given = (body as { id?: unknown }).id;
  if (given !== undefined && given !== id)
    throw new ValidationError(`the body's id must be ${id}`, [{ path: 'id', message: `must equal the path id ${id}` }]);
  const def = parseDefinition({ ...body, id });
  const tooLong = deps.retentionDays !== undefined ? windowBeyond(def.condition, deps.retentionDays * 86_400_000) : undefined;
  if (tooLong)
    throw new ValidationError(`${tooLong} is longer than the ${deps.retentionDays}-day event retention`, [
      { path: tooLong, message: `must be at most ${deps.retentionDays}d (events are kept ${deps.retentionDays} days)` },
    ]);
  // An audience's change must not interleave with a backfill of it still running (409).
  if (isAudience(def) && deps.backfills) await assertNoRunningJob(deps.backfills.jobs, def.id);
  await deps.rules.putRuleDoc(def);
  return def;
}

/**
 * {@link putDefinition}, then (for an enabled audience) a backfill job that computes its
 * membership for every existing profile; the job is returned with the definition.
 */
export async function putDefinitionAndBackfill(
  deps: RuleAdminDeps,
  id: string,
  body: unknown,
  opts: BackfillOptions = {},
): Promise<{ definition: Definition; job?: JobView }> {
  const definition = await putDefinition(deps, id, body);
  if (!isAudience(definition) || !definition.enabled || !deps.backfills) return { definition };
  return { definition, job: await startBackfill(deps.backfills, definition.id, opts) };
}

export async function deleteDefinition(deps: RuleAdminDeps, id: string): Promise<void> {
  if (!(await deps.rules.deleteRuleDoc(ruleId(id)))) throw new NotFoundError(`no rule ${id}`);
}

/** The inline rule of a request, or the stored one. */
async function definitionFor(deps: RuleAdminDeps, id: string, inline: unknown): Promise<Definition> {
  ruleId(id);
  if (inline !== undefined) {
    const def = parseDefinitionAt(inline, 'rule');
    if (def.id !== id)
      throw new ValidationError(`the rule's id must be ${id}`, [{ path: 'rule.id', message: `must equal the path id ${id}` }]);
    return def;
  }
  return parseDefinition(await getDefinition(deps, id));
}

function testEvent(raw: unknown, at: string): ScherpEvent {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new ValidationError('event must be an object', [{ path: 'event', message: 'must be an object' }]);
  const deep = tooDeepAt(raw, MAX_NESTING_DEPTH, 'event');
  if (deep !== undefined)
    throw new ValidationError(`${deep} nests deeper than ${MAX_NESTING_DEPTH} levels`, [
      { path: deep, message: `nests deeper than ${MAX_NESTING_DEPTH} levels` },
    ]);
  const e = raw as Record<string, unknown>;
  if (!EVENT_TYPES.includes(e.type as never))
    throw new ValidationError('event.type must be a Segment event type', [
      { path: 'event.type', message: `must be one of ${EVENT_TYPES.join(', ')}` },
    ]);
  return { messageId: `dry-run-${randomUUID()}`, timestamp: at, ...(e as object), sourceId: 'dry-run', receivedAt: at } as ScherpEvent;
}

function profileKeyOf(e: ScherpEvent): string | undefined {
  if (e.userId) return `user_id:${e.userId}`;
  if (e.anonymousId) return `anonymous_id:${e.anonymousId}`;
  return undefined;
}

export interface DryRunRequest {
  readonly rule?: unknown;
  readonly event?: unknown;
  /** `type:value` of a stored profile. */
  readonly profile?: string;
}

export interface DryRunResult {
  readonly id: string;
  readonly kind: 'rule' | 'audience';
  readonly wouldFire: boolean;
  readonly profileId: string | null;
  readonly event: { type: string; event?: string; messageId: string; timestamp: string } | null;
  readonly trace: readonly TraceEntry[];
  readonly actions: readonly { actionId: string; type: string; outcome: string; preview?: unknown }[];
}

/** Would this rule fire for this event / profile? Reads only; changes nothing. */
export async function dryRun(deps: RuleAdminDeps, id: string, req: DryRunRequest): Promise<DryRunResult> {
  const def = await definitionFor(deps, id, req.rule);
  const at = (deps.now?.() ?? new Date()).toISOString();
  let event = req.event !== undefined ? testEvent(req.event, at) : undefined;
  const key = req.profile ?? (event ? profileKeyOf(event) : undefined);
  if (!event && !key)
    throw new ValidationError('give an event, a profile identifier or both', [{ path: 'event', message: 'is required without profile' }]);
  let profile: Profile;
  try {
    profile = key ? await findProfile(deps.store, key) : newProfile('(new)', [], at);
  } catch (err) {
    if (!(err instanceof NotFoundError) || req.profile) throw err;
    profile = newProfile('(new)', [], at);
  }
  const stored = profile.id !== '(new)';
  const parts = stored ? await deps.parts.loadParts(profile.id) : EMPTY_PARTS;
  const windowMs = historyWindowMs(def.condition);
  if (!event && !isAudience(def)) {
    // No event given: the profile's latest event that the rule's trigger accepts.
    const set = new RuleSet([def]);
    const recent = (
      await deps.history.load([profile.id, ...(profile.mergedFrom ?? [])], new Date(Date.parse(at) - 400 * 86_400_000).toISOString())
    ).sort((a, b) => b.timestamp.localeCompare(a.timestamp));
    event = recent.find((e) => set.candidates(e.type, e.event).length > 0);
    if (!event) throw new NotFoundError(`the profile has no event the trigger of ${id} accepts; send one as event`);
  }
  const now = event ? Date.parse(event.timestamp) : Date.parse(at);
  const history = stored ? await loadHistory(deps.history, profile, windowMs, now) : windowMs > 0 ? [] : undefined;
  const ctxEvent = event ?? ({ type: 'identify', messageId: 'dry-run', timestamp: at, sourceId: 'dry-run', receivedAt: at } as ScherpEvent);
  const ctx: EvaluationContext = { event: { ...ctxEvent }, profile: contextProfile(profile, parts), history, now };
  const eventView = event
    ? { type: event.type, ...(event.event ? { event: event.event } : {}), messageId: event.messageId, timestamp: event.timestamp }
    : null;
  const profileId = stored ? profile.id : null;

  if (isAudience(def)) {
    const outcome = new RuleSet([def]).evaluateAudiences(ctx, (_, err) => {
      throw err;
    })[0]!;
    return { id, kind: 'audience', wouldFire: outcome.member, profileId, event: eventView, trace: outcome.trace, actions: [] };
  }
  const trigger = event ? new RuleSet([def]).candidates(event.type, event.event).length > 0 : false;
  const outcome = runRule(def, ctx);
  const person = personOf(profile.identifiers, traitValues(profile.traits));
  const actions = outcome.firings.map((f) => {
    const a = f.action;
    const outcomeText =
      a.consent && ctx.profile.consent?.[a.consent] !== 'granted'
        ? `skipped: no ${a.consent} consent`
        : a.delay
          ? `re-checked after ${a.delay}, fires if the condition still holds`
          : 'fires (subject to cooldown and maximum)';
    let preview: unknown;
    if (a.type === 'emit') {
      preview = actionTriggered({
        ruleId: def.id,
        action: a.action,
        target: a.target,
        profileId: profile.id,
        trigger: eventView!,
        dedupeId: dedupeId(ctx.event.messageId, def.id, f.actionId),
        person,
        data: resolveValues(a.data, f.scope),
        trace: f.trace,
        at,
      }).detail;
    } else if (a.type === 'trait')
      preview = { trait: a.trait, ...(a.increment !== undefined ? { increment: a.increment } : { set: resolveValue(a.set!, f.scope) }) };
    else if (a.type === 'audience') preview = { audience: a.audience, op: a.op };
    else preview = { slot: a.slot, data: resolveValues(a.data, f.scope), expiresIn: a.expiresIn };
    return { actionId: f.actionId, type: a.type, outcome: outcomeText, preview };
  });
  return {
    id,
    kind: 'rule',
    wouldFire: trigger && outcome.fired,
    profileId,
    event: eventView,
    trace: outcome.trace,
    actions: trigger ? actions : [],
  };
}

export interface BacktestRequest {
  readonly rule?: unknown;
  /** ISO-8601 start and end of the window. */
  readonly from: string;
  readonly to: string;
  /** Parallel-scan segments of the job. @default DEFAULT_SEGMENTS */
  readonly segments?: number;
}

function isoParam(v: unknown, path: string): string {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw new ValidationError(`${path} must be an ISO-8601 time`, [{ path, message: 'must be an ISO-8601 time' }]);
  return new Date(t).toISOString();
}

/** An inline rule travels in the job's item (at most 400 KB with everything else). */
const MAX_BACKTEST_RULE_BYTES = 300 * 1024;

/**
 * Starts a backtest job (`rule-backtest`, `app/job-backtest.ts`): the window's trigger events
 * of every stored profile replayed through the rule (stored, or inline under `rule`), each with
 * the timeline as it stood then; profile traits, consent and audiences are today's. Fires
 * nothing. Every profile is looked at (no cap): the answer is the job's `result` once it
 * succeeded (`GET /v1/jobs/{id}`).
 */
export async function startBacktest(deps: RuleAdminDeps, id: string, req: BacktestRequest): Promise<JobView> {
  const def = await definitionFor(deps, id, req.rule);
  const from = isoParam(req.from, 'from');
  const to = isoParam(req.to, 'to');
  if (from > to) throw new ValidationError('from must not be after to', [{ path: 'from', message: 'must not be after to' }]);
  if (Buffer.byteLength(JSON.stringify(def)) > MAX_BACKTEST_RULE_BYTES)
    throw new ValidationError('the rule is too large to backtest', [
      { path: 'rule', message: `must be at most ${MAX_BACKTEST_RULE_BYTES} bytes as JSON` },
    ]);
  if (!deps.backfills) throw new NotFoundError('jobs are not configured here');
  return startJob(deps.backfills, backtestJob(def, from, to, req.segments));
}
