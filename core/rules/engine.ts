/**
 * Rule evaluation: rules are compiled once and indexed by trigger, then matched per event.
 * History conditions read a timeline the caller loaded once per event. Pure.
 */
import type { EventType, ScherpEvent } from '../events';
import { ValidationError } from '../errors';
import { parseInput } from '../validation';
import { readPath } from './path';
import { tooDeepAt } from '../depth';
import { dict } from '../dict';
import {
  type Action,
  type Audience,
  AudienceSchema,
  type Comparison,
  type Condition,
  type Definition,
  durationMs,
  type HistoryCondition,
  type Rule,
  RuleSchema,
  type ValueRef,
} from './schema';

export { readPath };

/** What a rule sees. Paths start at `event`, `profile` or `match` (history bindings). */
export interface EvaluationContext {
  readonly event: { readonly type: EventType; readonly event?: string; readonly messageId: string; readonly timestamp?: string } & Record<
    string,
    unknown
  >;
  readonly profile: {
    readonly id: string;
    readonly identifiers?: readonly string[];
    readonly traits: Record<string, unknown>;
    readonly computed?: Record<string, unknown>;
    readonly audiences?: readonly string[];
    readonly consent?: Record<string, string>;
  } & Record<string, unknown>;
  /** The profile's timeline (any order), loaded when a candidate needs history. */
  readonly history?: readonly ScherpEvent[];
  /** "Now" for history windows, epoch ms. @default the event's timestamp */
  readonly now?: number;
  /**
   * History windows reach back at least to this time (epoch ms): a delayed re-check counts
   * everything since its trigger event, however late the check runs.
   */
  readonly historyFrom?: number;
  /**
   * The event being evaluated counts toward history conditions (once, whether or not the
   * loaded timeline holds it). Audiences: membership is the state *after* the event. Rules
   * leave it out: "before this event" (`last time you bought…`). @default false (audiences: true)
   */
  readonly eventInHistory?: boolean;
}

/** One condition as evaluated, so a marketer can see why a rule fired. */
export interface TraceEntry {
  readonly path: string;
  readonly op: string;
  readonly expected?: unknown;
  readonly actual: unknown;
  readonly result: boolean;
}

export interface Firing {
  readonly ruleId: string;
  readonly actionIndex: number;
  /** The action's id, or `<type>-<index>`. */
  readonly actionId: string;
  readonly action: Action;
  readonly trace: readonly TraceEntry[];
  /** The scope the condition ran in, history bindings included (for action values). */
  readonly scope: Scope;
}

/** What paths resolve against while one rule runs. */
export interface Scope {
  readonly event: EvaluationContext['event'];
  readonly profile: EvaluationContext['profile'];
  readonly match: Record<string, unknown>;
}

export function parseRule(doc: unknown): Rule {
  return parseInput(RuleSchema, doc, 'rule');
}

/**
 * Deepest nesting of a rule or audience document, in JSON levels: room for conditions nested
 * about 30 deep (`all`/`any` take two levels each), far below what would overflow the stack.
 */
export const MAX_DEFINITION_DEPTH = 64;

/** A rule or (with `"kind": "audience"`) an audience definition. */
export function parseDefinition(doc: unknown): Definition {
  return parseDefinitionAt(doc, '');
}

/** {@link parseDefinition} with the issue paths under `prefix` (`rule` in a dry run's body). */
export function parseDefinitionAt(doc: unknown, prefix: string): Definition {
  const deep = tooDeepAt(doc, MAX_DEFINITION_DEPTH, prefix);
  if (deep !== undefined)
    throw new ValidationError(`invalid definition: ${deep} nests deeper than ${MAX_DEFINITION_DEPTH} levels`, [
      { path: deep, message: `nests deeper than ${MAX_DEFINITION_DEPTH} levels` },
    ]);
  if (doc !== null && typeof doc === 'object' && (doc as { kind?: unknown }).kind === 'audience')
    return parseInput(AudienceSchema, doc, 'audience', prefix);
  return parseInput(RuleSchema, doc, 'rule', prefix);
}

export function isAudience(d: Definition): d is Audience {
  return d.kind === 'audience';
}

function compare(c: Comparison, actual: unknown): boolean {
  const v = c.value;
  switch (c.op) {
    case 'exists':
      return (
        (actual !== undefined && actual !== null && !(Array.isArray(actual) && actual.length === 0)) ===
        (v === undefined ? true : Boolean(v))
      );
    case 'eq':
      return actual === v;
    case 'neq':
      return actual !== v;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const [a, b] =
        typeof actual === 'number' && typeof v === 'number'
          ? [actual, v]
          : typeof actual === 'string' && typeof v === 'string'
            ? [actual, v]
            : [undefined, undefined];
      if (a === undefined || b === undefined) return false;
      if (c.op === 'gt') return a > b;
      if (c.op === 'gte') return a >= b;
      if (c.op === 'lt') return a < b;
      return a <= b;
    }
    case 'in':
      return Array.isArray(v) && v.includes(actual);
    case 'contains':
      if (typeof actual === 'string' && typeof v === 'string') return actual.includes(v);
      return Array.isArray(actual) && actual.includes(v);
    case 'startsWith':
      return typeof actual === 'string' && typeof v === 'string' && actual.startsWith(v);
  }
}

function eventName(e: ScherpEvent): string | undefined {
  return e.event ?? e.name;
}

/** The event's time in epoch ms; an event without a usable timestamp counts as now. */
function eventTime(ts: string | undefined): number {
  const t = ts ? Date.parse(ts) : NaN;
  return Number.isNaN(t) ? Date.now() : t;
}

/**
 * The events history conditions count: the timeline without the event being evaluated, or
 * (`eventInHistory`) with it exactly once.
 */
function historyOf(ctx: EvaluationContext): readonly ScherpEvent[] {
  const id = ctx.event.messageId;
  const others = (ctx.history ?? []).filter((e) => e.messageId !== id);
  if (!ctx.eventInHistory || typeof ctx.event.timestamp !== 'string') return others;
  return [...others, ctx.event as unknown as ScherpEvent];
}

/** The events a history condition counts now: its event (and type), in its window, passing its `where`. */
export function historyMatches(h: HistoryCondition['history'], scope: Scope, ctx: EvaluationContext): ScherpEvent[] {
  const now = ctx.now ?? eventTime(ctx.event.timestamp);
  const since = Math.min(now - durationMs(h.within), ctx.historyFrom ?? Infinity);
  const out: ScherpEvent[] = [];
  for (const e of historyOf(ctx)) {
    if (eventName(e) !== h.event || (h.type && e.type !== h.type)) continue;
    const at = Date.parse(e.timestamp);
    if (at < since || at > now) continue;
    if (h.where && !evaluateCondition(h.where, { ...scope, event: e as unknown as Scope['event'] }, ctx, [])) continue;
    out.push(e);
  }
  return out;
}

function evaluateHistory(h: HistoryCondition['history'], scope: Scope, ctx: EvaluationContext, trace: TraceEntry[]): boolean {
  const matched = historyMatches(h, scope, ctx);
  const count = matched.length;
  let newest: ScherpEvent | undefined;
  for (const e of matched) if (!newest || e.timestamp > newest.timestamp) newest = e;
  const result = (h.atLeast === undefined || count >= h.atLeast) && (h.atMost === undefined || count <= h.atMost);
  if (result && h.as && newest) scope.match[h.as] = newest;
  trace.push({
    path: `history(${h.event})`,
    op: 'count',
    expected: {
      within: h.within,
      ...(h.atLeast !== undefined ? { atLeast: h.atLeast } : {}),
      ...(h.atMost !== undefined ? { atMost: h.atMost } : {}),
    },
    actual: count,
    result,
  });
  return result;
}

export function evaluateCondition(cond: Condition, scope: Scope, ctx: EvaluationContext, trace: TraceEntry[]): boolean {
  if ('all' in cond) return cond.all.every((c) => evaluateCondition(c, scope, ctx, trace));
  if ('any' in cond) return cond.any.some((c) => evaluateCondition(c, scope, ctx, trace));
  if ('not' in cond) return !evaluateCondition(cond.not, scope, ctx, trace);
  if ('history' in cond) return evaluateHistory(cond.history, scope, ctx, trace);
  const actual = readPath(scope, cond.path);
  const result = compare(cond, actual);
  trace.push({ path: cond.path, op: cond.op, expected: cond.value, actual, result });
  return result;
}

/** Resolves an action value: a path into the scope, or a literal. */
export function resolveValue(ref: ValueRef, scope: Scope): unknown {
  return typeof ref === 'string' ? readPath(scope, ref) : ref.value;
}

export function resolveValues(refs: Record<string, ValueRef> | undefined, scope: Scope): Record<string, unknown> {
  // Keys are the rule author's names: a null-prototype object, so `__proto__` or `toString` is a name like any other.
  const out = dict<unknown>();
  for (const [k, ref] of Object.entries(refs ?? {})) out[k] = resolveValue(ref, scope);
  return out;
}

/** The longest history window a condition needs, in ms (0: none). */
export function historyWindowMs(cond: Condition | undefined): number {
  if (!cond) return 0;
  if ('all' in cond) return Math.max(0, ...cond.all.map(historyWindowMs));
  if ('any' in cond) return Math.max(0, ...cond.any.map(historyWindowMs));
  if ('not' in cond) return historyWindowMs(cond.not);
  if ('history' in cond) return Math.max(durationMs(cond.history.within), historyWindowMs(cond.history.where));
  return 0;
}

/**
 * The path (under `prefix`) of the first history window longer than `maxMs`, if any: such a
 * condition could never see the events it needs (they are gone after the retention).
 */
export function windowBeyond(cond: Condition | undefined, maxMs: number, prefix = 'condition'): string | undefined {
  if (!cond) return undefined;
  const first = (list: readonly Condition[], key: string) => {
    for (let i = 0; i < list.length; i++) {
      const hit = windowBeyond(list[i], maxMs, `${prefix}.${key}[${i}]`);
      if (hit) return hit;
    }
    return undefined;
  };
  if ('all' in cond) return first(cond.all, 'all');
  if ('any' in cond) return first(cond.any, 'any');
  if ('not' in cond) return windowBeyond(cond.not, maxMs, `${prefix}.not`);
  if ('history' in cond) {
    if (durationMs(cond.history.within) > maxMs) return `${prefix}.history.within`;
    return windowBeyond(cond.history.where, maxMs, `${prefix}.history.where`);
  }
  return undefined;
}

export function actionId(action: Action, index: number): string {
  return action.id ?? `${action.type}-${index}`;
}

export interface RuleOutcome {
  readonly fired: boolean;
  readonly trace: readonly TraceEntry[];
  readonly firings: readonly Firing[];
}

/** Runs one rule's condition against the context; pure and side-effect free (dry runs use it). */
export function runRule(rule: Rule, ctx: EvaluationContext): RuleOutcome {
  const scope: Scope = { event: ctx.event, profile: ctx.profile, match: {} };
  const trace: TraceEntry[] = [];
  if (rule.condition && !evaluateCondition(rule.condition, scope, ctx, trace)) return { fired: false, trace, firings: [] };
  const firings = rule.actions.map((action, actionIndex) => ({
    ruleId: rule.id,
    actionIndex,
    actionId: actionId(action, actionIndex),
    action,
    trace,
    scope,
  }));
  return { fired: true, trace, firings };
}

export interface AudienceOutcome {
  readonly audience: Audience;
  readonly member: boolean;
  readonly trace: readonly TraceEntry[];
}

/** Rules and audiences compiled and indexed: an event only meets the rules that can fire on it. */
export class RuleSet {
  private readonly byTrigger = new Map<string, Rule[]>();
  readonly rules: readonly Rule[];
  readonly audiences: readonly Audience[];
  private readonly windows = new Map<string, number>();

  constructor(definitions: readonly Definition[]) {
    this.rules = definitions.filter((d): d is Rule => !isAudience(d));
    this.audiences = definitions.filter((d): d is Audience => isAudience(d) && d.enabled);
    for (const r of this.rules) {
      this.windows.set(r.id, historyWindowMs(r.condition));
      if (!r.enabled) continue;
      const types = r.trigger.types ?? ['*'];
      const events = r.trigger.events ?? ['*'];
      for (const t of types) for (const e of events) this.index(`${t}|${e}`, r);
    }
    this.audienceWindow = Math.max(0, ...this.audiences.map((a) => historyWindowMs(a.condition)));
  }

  /** The longest history window any audience needs, ms. */
  readonly audienceWindow: number;

  private index(key: string, r: Rule): void {
    const list = this.byTrigger.get(key);
    if (list) list.push(r);
    else this.byTrigger.set(key, [r]);
  }

  get(id: string): Rule | undefined {
    return this.rules.find((r) => r.id === id);
  }

  /** The enabled rules whose trigger matches the event's type and name. */
  candidates(type: string, name: string | undefined): Rule[] {
    const keys = [`${type}|*`, `*|*`];
    if (name !== undefined) keys.push(`${type}|${name}`, `*|${name}`);
    const seen = new Set<Rule>();
    for (const k of keys) for (const r of this.byTrigger.get(k) ?? []) seen.add(r);
    return [...seen];
  }

  /** The history window (ms) the given rules and every audience need; 0 reads no timeline. */
  historyWindow(rules: readonly Rule[]): number {
    return Math.max(this.audienceWindow, ...rules.map((r) => this.windows.get(r.id) ?? historyWindowMs(r.condition)));
  }

  /** Every action that fires for this context. A rule that throws is reported, never fatal. */
  evaluate(
    ctx: EvaluationContext,
    onError: (ruleId: string, err: unknown) => void = () => undefined,
    rules = this.candidates(ctx.event.type, ctx.event.event),
  ): Firing[] {
    const out: Firing[] = [];
    for (const rule of rules) {
      try {
        out.push(...runRule(rule, ctx).firings);
      } catch (err) {
        onError(rule.id, err);
      }
    }
    return out;
  }

  /**
   * Membership of every audience for this context; one that throws is reported and left as it
   * was. Membership is the state after the event: history conditions count it (unless the
   * context says `eventInHistory: false`, as a backfill over the stored timeline does).
   */
  evaluateAudiences(
    context: EvaluationContext,
    onError: (audienceId: string, err: unknown) => void = () => undefined,
    audiences: readonly Audience[] = this.audiences,
  ): AudienceOutcome[] {
    const ctx: EvaluationContext = { ...context, eventInHistory: context.eventInHistory ?? true };
    const out: AudienceOutcome[] = [];
    for (const audience of audiences) {
      try {
        const trace: TraceEntry[] = [];
        const member = evaluateCondition(audience.condition, { event: ctx.event, profile: ctx.profile, match: {} }, ctx, trace);
        out.push({ audience, member, trace });
      } catch (err) {
        onError(audience.id, err);
      }
    }
    return out;
  }
}
