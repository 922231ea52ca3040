/**
 * Rule evaluation: rules are compiled once and indexed by trigger, then matched per event. Pure.
 */
import { ValidationError } from '../errors';
import type { EventType } from '../events';
import { zodIssues } from '../events';
import { type Action, type Comparison, type Condition, type Rule, RuleSchema } from './schema';

/** What a rule sees: the event and the profile (plain trait values). */
export interface EvaluationContext {
  readonly event: { readonly type: EventType; readonly event?: string; readonly messageId: string } & Record<string, unknown>;
  readonly profile: { readonly id: string; readonly traits: Record<string, unknown> } & Record<string, unknown>;
}

/** One condition leaf as evaluated, so a marketer can see why a rule fired. */
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
  readonly action: Action;
  readonly detail: Record<string, unknown>;
  readonly trace: TraceEntry[];
}

export function parseRule(doc: unknown): Rule {
  const r = RuleSchema.safeParse(doc);
  if (!r.success) {
    const issues = zodIssues(r.error);
    throw new ValidationError(`invalid rule: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, issues);
  }
  return r.data;
}

/** Reads a dotted path, own properties only (no prototype walking). */
export function readPath(root: unknown, path: string): unknown {
  let cur: unknown = root;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function compare(c: Comparison, actual: unknown): boolean {
  const v = c.value;
  switch (c.op) {
    case 'exists':
      return (actual !== undefined && actual !== null) === (v === undefined ? true : Boolean(v));
    case 'eq':
      return actual === v;
    case 'neq':
      return actual !== v;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const [a, b] = typeof actual === 'number' && typeof v === 'number' ? [actual, v] : typeof actual === 'string' && typeof v === 'string' ? [actual, v] : [undefined, undefined];
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

export function evaluateCondition(cond: Condition, ctx: EvaluationContext, trace: TraceEntry[]): boolean {
  if ('all' in cond) return cond.all.every((c) => evaluateCondition(c, ctx, trace));
  if ('any' in cond) return cond.any.some((c) => evaluateCondition(c, ctx, trace));
  if ('not' in cond) return !evaluateCondition(cond.not, ctx, trace);
  const actual = readPath(ctx, cond.path);
  const result = compare(cond, actual);
  trace.push({ path: cond.path, op: cond.op, expected: cond.value, actual, result });
  return result;
}

function buildDetail(action: Action, ctx: EvaluationContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(action.detail ?? {})) out[k] = typeof f === 'string' ? readPath(ctx, f) : f.value;
  return out;
}

/** Rules compiled and indexed by trigger: an event only meets the rules that can fire on it. */
export class RuleSet {
  private readonly byTrigger = new Map<string, Rule[]>();

  constructor(readonly rules: readonly Rule[]) {
    for (const r of rules) {
      if (!r.enabled) continue;
      const types = r.trigger.types ?? ['*'];
      const events = r.trigger.events ?? ['*'];
      for (const t of types) for (const e of events) this.index(`${t}|${e}`, r);
    }
  }

  private index(key: string, r: Rule): void {
    const list = this.byTrigger.get(key);
    if (list) list.push(r);
    else this.byTrigger.set(key, [r]);
  }

  /** The enabled rules whose trigger matches the event's type and name. */
  candidates(type: string, name: string | undefined): Rule[] {
    const keys = [`${type}|*`, `*|*`];
    if (name !== undefined) keys.push(`${type}|${name}`, `*|${name}`);
    const seen = new Set<Rule>();
    for (const k of keys) for (const r of this.byTrigger.get(k) ?? []) seen.add(r);
    return [...seen];
  }

  /** Every action that fires for this context. A rule that throws is reported, never fatal. */
  evaluate(ctx: EvaluationContext, onError: (ruleId: string, err: unknown) => void = () => undefined): Firing[] {
    const out: Firing[] = [];
    for (const rule of this.candidates(ctx.event.type, ctx.event.event)) {
      try {
        const trace: TraceEntry[] = [];
        if (rule.condition && !evaluateCondition(rule.condition, ctx, trace)) continue;
        rule.actions.forEach((action, actionIndex) => {
          out.push({ ruleId: rule.id, actionIndex, action, detail: buildDetail(action, ctx), trace });
        });
      } catch (err) {
        onError(rule.id, err);
      }
    }
    return out;
  }
}
