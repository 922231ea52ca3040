/**
 * A dry run's trace as a tree: the API's trace is flat (one entry per comparison or history
 * count, in evaluation order, `all` and `any` stopping early), so the console walks the rule's
 * condition the way the engine does and hangs each entry on its condition. Parts the engine never
 * reached are marked as skipped. Pure (unit-tested).
 */

export interface TraceEntry {
  readonly path: string;
  readonly op: string;
  readonly expected?: unknown;
  readonly actual: unknown;
  readonly result: boolean;
}

export type TraceNode =
  | { readonly kind: 'all' | 'any'; readonly result?: boolean; readonly children: TraceNode[] }
  | { readonly kind: 'not'; readonly result?: boolean; readonly child: TraceNode }
  | { readonly kind: 'check'; readonly result?: boolean; readonly entry?: TraceEntry; readonly condition: unknown };

type Cond = { all?: unknown[]; any?: unknown[]; not?: unknown };

/** The tree of `condition` with the entries of `trace`; undefined when they do not line up (then show the flat trace). */
export function traceTree(condition: unknown, trace: readonly TraceEntry[]): TraceNode | undefined {
  let next = 0;
  const skipped = (c: unknown): TraceNode => {
    const x = c as Cond;
    if (Array.isArray(x?.all)) return { kind: 'all', children: x.all.map(skipped) };
    if (Array.isArray(x?.any)) return { kind: 'any', children: x.any.map(skipped) };
    if (x && typeof x === 'object' && 'not' in x) return { kind: 'not', child: skipped(x.not) };
    return { kind: 'check', condition: c };
  };
  const walk = (c: unknown): TraceNode => {
    const x = c as Cond;
    if (Array.isArray(x?.all) || Array.isArray(x?.any)) {
      const all = Array.isArray(x.all);
      const list = (all ? x.all : x.any)!;
      const children: TraceNode[] = [];
      let decided: boolean | undefined;
      for (const child of list) {
        if (decided !== undefined) {
          children.push(skipped(child));
          continue;
        }
        const n = walk(child);
        children.push(n);
        if (n.result === !all) decided = !all;
      }
      return { kind: all ? 'all' : 'any', children, result: decided ?? all };
    }
    if (x && typeof x === 'object' && 'not' in x) {
      const child = walk(x.not);
      return { kind: 'not', child, result: child.result === undefined ? undefined : !child.result };
    }
    const entry = trace[next++];
    return { kind: 'check', condition: c, entry, result: entry?.result };
  };
  if (condition === undefined) return trace.length === 0 ? { kind: 'all', children: [], result: true } : undefined;
  const tree = walk(condition);
  return next === trace.length ? tree : undefined;
}

const OPS: Readonly<Record<string, string>> = {
  eq: 'equals',
  neq: 'does not equal',
  gt: 'is greater than',
  gte: 'is at least',
  lt: 'is less than',
  lte: 'is at most',
  in: 'is one of',
  contains: 'contains',
  exists: 'exists',
  startsWith: 'starts with',
  count: 'counted',
};

/** The operator in words. */
export function opWords(op: string): string {
  return Object.hasOwn(OPS, op) ? OPS[op]! : op;
}

/** A value as text: strings quoted, absent as "(absent)". */
export function valueText(v: unknown): string {
  if (v === undefined) return '(absent)';
  return JSON.stringify(v);
}

/** What a history count wanted, in words (`at least 1 within 365d`). */
export function historyWanted(expected: unknown): string {
  const e = (expected ?? {}) as { within?: string; atLeast?: number; atMost?: number };
  const parts = [
    e.atLeast !== undefined ? `at least ${e.atLeast}` : undefined,
    e.atMost !== undefined ? `at most ${e.atMost}` : undefined,
  ].filter(Boolean);
  return `${parts.join(' and ')}${e.within ? ` within ${e.within}` : ''}`;
}
