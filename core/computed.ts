/**
 * Computed traits: values kept current per profile as events arrive, defined in config
 * (`computed` section). Pure: applying an event, combining two profiles' values at a merge.
 *
 * Idempotent: every applied event leaves a short hash of its timeline key in `recent` (the last
 * {@link RECENT_EVENTS}); an event found there changes nothing, so a stream redelivery never
 * counts twice. Counts, sums, averages, minimums, maximums, most-frequent counts and (sorted,
 * bounded) unique lists do not depend on the order events arrive in; first/last compare the
 * events' timestamps.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { ScherpEvent } from './events';
import { PATH_PATTERN, readPath } from './rules/path';
import { dict, has, own } from './dict';
import { clampSafe, isStorableNumber } from './numbers';

export const COMPUTED_OPS = ['count', 'sum', 'avg', 'min', 'max', 'first', 'last', 'mostFrequent', 'unique'] as const;
export type ComputedOp = (typeof COMPUTED_OPS)[number];

/** Event hashes kept on the item to drop redeliveries. */
export const RECENT_EVENTS = 16;
/** Distinct values a `mostFrequent` trait counts; beyond it new values are not counted. */
export const MOST_FREQUENT_VALUES = 50;

const eventPath = z
  .string()
  .min(1)
  .max(200)
  .refine(
    (p) => PATH_PATTERN.test(`event.${p}`),
    'must be a path into the event such as properties.revenue or properties.products[].category',
  );

const WhereSchema = z
  .object({
    property: eventPath,
    op: z.enum(['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'exists']),
    value: z.union([z.string(), z.number(), z.boolean()]).optional(),
  })
  .strict();

export const ComputedDefSchema = z
  .object({
    op: z.enum(COMPUTED_OPS),
    /** Only events with this name (track `event`, or page/screen `name`). */
    event: z.string().min(1).max(200).optional(),
    /** Only events of this type (track, identify, page, …). */
    type: z.string().min(1).max(20).optional(),
    /** The value to aggregate: a path into the event (`properties.revenue`, `timestamp`). Not for `count`. */
    property: eventPath.optional(),
    /** For `first`/`last` of a list of objects: keep only these fields of each element. */
    pick: z.array(z.string().min(1).max(100)).min(1).max(20).optional(),
    /** Every condition must hold for the event to count. */
    where: z.array(WhereSchema).max(10).default([]),
    /** Longest list (`unique`, or a picked list). @default 20 */
    limit: z.number().int().min(1).max(100).default(20),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.op !== 'count' && !d.property) ctx.addIssue({ code: 'custom', path: ['property'], message: `is required for ${d.op}` });
  });

export type ComputedDef = z.output<typeof ComputedDefSchema>;
export type ComputedDefs = Readonly<Record<string, ComputedDef>>;

const def = (d: z.input<typeof ComputedDefSchema>): ComputedDef => ComputedDefSchema.parse(d);

/** The computed traits Scherp ships; config may change or switch off (`false`) each. */
export const DEFAULT_COMPUTED: ComputedDefs = dict({
  first_seen: def({ op: 'first', property: 'timestamp' }),
  last_seen: def({ op: 'last', property: 'timestamp' }),
  event_count: def({ op: 'count' }),
  order_count: def({ op: 'count', type: 'track', event: 'Order Completed' }),
  lifetime_value: def({ op: 'sum', type: 'track', event: 'Order Completed', property: 'properties.revenue' }),
  last_order_products: def({
    op: 'last',
    type: 'track',
    event: 'Order Completed',
    property: 'properties.products',
    pick: ['product_id', 'category'],
    limit: 10,
  }),
  purchased_categories: def({
    op: 'unique',
    type: 'track',
    event: 'Order Completed',
    property: 'properties.products[].category',
    limit: 20,
  }),
});

/** 1-40 characters of a-z, 0-9 and _, starting with a letter; not an attribute of the item's own (pk, sk, ver, ttl). */
const NAME = /^(?!(?:pk|sk|ver|ttl)$)[a-z][a-z0-9_]{0,39}$/;

/** The `computed` config section: definitions merged over {@link DEFAULT_COMPUTED}. */
export const ComputedConfigSchema = z
  .record(z.string(), z.union([ComputedDefSchema, z.literal(false)]))
  .default({})
  .transform((given, ctx) => {
    const out = dict<ComputedDef>(DEFAULT_COMPUTED);
    for (const [name, d] of Object.entries(given)) {
      if (!NAME.test(name)) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message:
            'computed trait names are 1-40 characters of a-z, 0-9 and _, starting with a letter, and not reserved (pk, sk, ver, ttl)',
        });
      } else if (d === false) delete out[name];
      else out[name] = d;
    }
    return out as ComputedDefs;
  });

/** Auxiliary state some operations need besides the value. */
export interface Aux {
  /** first/last: the timestamp of the event the value came from. */
  readonly t?: string;
  /** avg: running sum and count. */
  readonly s?: number;
  readonly n?: number;
  /** mostFrequent: count per value (by its JSON). */
  readonly c?: Readonly<Record<string, number>>;
  /**
   * Set by a recompute (`recomputeComputed`): hashes of events (and merges) already folded into
   * this trait that `evaluate` may still deliver. Such an event is applied to the other traits
   * but not to this one, and its hash leaves the list.
   */
  readonly x?: readonly string[];
  /** Until when (ISO) `x` can matter: an event received later drops the list. */
  readonly xu?: string;
}

export interface ComputedState {
  readonly values: Readonly<Record<string, unknown>>;
  readonly aux: Readonly<Record<string, Aux>>;
  /** Hashes of the last applied events (and merges), newest last. */
  readonly recent: readonly string[];
  /**
   * Per source partition ({@link partitionKeyOf} of the profile whose timeline or merge record
   * the stream record came from), the highest stream sequence number applied. A partition's
   * records reach evaluate in sequence order, so a record at or below its mark was applied
   * already (exactly, however many events since: `recent` keeps only the last 16).
   */
  readonly seen?: Readonly<Record<string, string>>;
  /**
   * Sealed: the profile was merged into this one and its values were combined there. Nothing is
   * applied to a sealed state: a writer that read it before the seal re-resolves the profile.
   */
  readonly into?: string;
}

/** Where a stream record sits: the partition it came from and its sequence number. */
export interface StreamPosition {
  readonly partition: string;
  readonly seq: string;
}

/** The short key of a source partition in {@link ComputedState.seen} (a letter first: never an integer-like key, so key order is insertion order). */
export function partitionKeyOf(profileId: string): string {
  return `p${eventHash(`p#${profileId}`).slice(0, 8)}`;
}

/** Compares two stream sequence numbers (decimal digit strings of any length). */
export function compareSeq(a: string, b: string): number {
  const x = a.replace(/^0+/, '');
  const y = b.replace(/^0+/, '');
  return x.length !== y.length ? x.length - y.length : x < y ? -1 : x > y ? 1 : 0;
}

/** Whether the record at `at` was applied to this state already (its partition's mark is at or past it). */
export function appliedAt(state: ComputedState, at: StreamPosition | undefined): boolean {
  if (!at) return false;
  const mark = state.seen?.[partitionKeyOf(at.partition)];
  return mark !== undefined && compareSeq(mark, at.seq) >= 0;
}

/** The most partitions a state keeps a mark for (its own and the latest merged-in ones). */
export const SEEN_PARTITIONS = 8;

/** The marks of several states joined (the highest per partition), then `at` added. */
function joinSeen(states: readonly ComputedState[], at: StreamPosition | undefined): Record<string, string> | undefined {
  const out = new Map<string, string>();
  const add = (k: string, seq: string) => {
    const cur = out.get(k);
    out.delete(k);
    out.set(k, cur !== undefined && compareSeq(cur, seq) > 0 ? cur : seq);
  };
  for (const s of states) for (const [k, seq] of Object.entries(s.seen ?? {})) add(k, seq);
  if (at) add(partitionKeyOf(at.partition), at.seq);
  if (out.size === 0) return undefined;
  return dict(Object.fromEntries([...out].slice(-SEEN_PARTITIONS)));
}

export const EMPTY_COMPUTED: ComputedState = { values: dict(), aux: dict(), recent: [] };

/** A short, stable hash of an event's (or a merge's) identity. */
export function eventHash(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 12);
}

/** The identity of a stored event: the same as its timeline position. */
export function eventKeyOf(event: Pick<ScherpEvent, 'timestamp' | 'messageId'>): string {
  return eventHash(`${event.timestamp}#${event.messageId}`);
}

/** Rounded to 6 decimals and kept within ±(2^53 − 1), so every computed number is stored exactly. */
const round = (x: number) => clampSafe(Math.round(x * 1e6) / 1e6);

/**
 * The number a value stands for, when it is one DynamoDB stores exactly: a finite number (or
 * numeric text) within ±(2^53 − 1) and not below 1e-130 in magnitude. Others (`1e200`,
 * `"9007199254740993"`) are not numbers to sums, averages, minimums and maximums: ignored.
 */
function num(v: unknown): number | undefined {
  const x = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : undefined;
  return x !== undefined && isStorableNumber(x) ? x : undefined;
}

function cmp(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function holds(w: ComputedDef['where'][number], event: ScherpEvent): boolean {
  const v = readPath(event, w.property);
  if (w.op === 'exists') return v !== undefined && v !== null;
  if (w.op === 'eq') return v === w.value || (v !== undefined && String(v) === String(w.value));
  if (w.op === 'neq') return !(v === w.value || (v !== undefined && String(v) === String(w.value)));
  const a = num(v);
  const b = num(w.value);
  if (a === undefined || b === undefined) return false;
  return w.op === 'gt' ? a > b : w.op === 'gte' ? a >= b : w.op === 'lt' ? a < b : a <= b;
}

/** Whether a definition counts this event. */
export function matches(d: ComputedDef, event: ScherpEvent): boolean {
  if (d.type && event.type !== d.type) return false;
  if (d.event && (event.event ?? event.name) !== d.event) return false;
  return d.where.every((w) => holds(w, event));
}

function picked(d: ComputedDef, v: unknown): unknown {
  if (!d.pick || !Array.isArray(v)) return v;
  return v.slice(0, d.limit).map((el) => {
    const out = dict<unknown>();
    for (const f of d.pick!) if (el !== null && typeof el === 'object' && has(el, f)) out[f] = (el as Record<string, unknown>)[f];
    return out;
  });
}

function sortedUnique(values: readonly unknown[], limit: number): unknown[] {
  const byJson = new Map<string, unknown>();
  for (const v of values) if (v !== undefined && v !== null && typeof v !== 'object') byJson.set(JSON.stringify(v), v);
  return [...byJson.values()].sort(cmp).slice(0, limit);
}

function argmax(c: Readonly<Record<string, number>>): unknown {
  let best: string | undefined;
  let top = 0;
  for (const [k, n] of Object.entries(c)) if (best === undefined || n > top || (n === top && k < best)) [best, top] = [k, n];
  return best === undefined ? undefined : JSON.parse(best);
}

type One = { value: unknown; aux?: Aux };

/** One definition applied to one event's value (`raw`) at time `t`. */
function step(d: ComputedDef, cur: One | undefined, raw: unknown, t: string): One | undefined {
  switch (d.op) {
    case 'count':
      return { value: ((cur?.value as number) ?? 0) + 1 };
    case 'sum': {
      const x = num(raw);
      return x === undefined ? cur : { value: round(((cur?.value as number) ?? 0) + x) };
    }
    case 'avg': {
      const x = num(raw);
      if (x === undefined) return cur;
      const s = round((cur?.aux?.s ?? 0) + x);
      const n = (cur?.aux?.n ?? 0) + 1;
      return { value: round(s / n), aux: { s, n } };
    }
    case 'min':
    case 'max': {
      const x = num(raw);
      if (x === undefined) return cur;
      if (cur === undefined) return { value: x };
      return { value: d.op === 'min' ? Math.min(cur.value as number, x) : Math.max(cur.value as number, x) };
    }
    case 'first':
    case 'last': {
      const v = picked(d, raw);
      if (v === undefined || v === null) return cur;
      return better(d.op, cur, { value: v, aux: { t } });
    }
    case 'mostFrequent': {
      if (raw === undefined || raw === null || typeof raw === 'object') return cur;
      const k = JSON.stringify(raw);
      const c = dict<number>(cur?.aux?.c);
      if (!has(c, k) && Object.keys(c).length >= MOST_FREQUENT_VALUES) return cur;
      c[k] = (own(c, k) ?? 0) + 1;
      return { value: argmax(c), aux: { c } };
    }
    case 'unique': {
      const incoming = Array.isArray(raw) ? raw : [raw];
      return { value: sortedUnique([...((cur?.value as unknown[]) ?? []), ...incoming], d.limit) };
    }
  }
}

/** first: the earlier event's value wins; last: the later; ties break on the value, deterministically. */
function better(op: 'first' | 'last', a: One | undefined, b: One | undefined): One | undefined {
  if (!a) return b;
  if (!b) return a;
  const ta = a.aux?.t ?? '';
  const tb = b.aux?.t ?? '';
  const byTime = ta < tb ? -1 : ta > tb ? 1 : cmp(a.value, b.value);
  return (op === 'first' ? byTime <= 0 : byTime >= 0) ? a : b;
}

function get(state: ComputedState, name: string): One | undefined {
  return has(state.values, name) ? { value: state.values[name], aux: own(state.aux, name) } : undefined;
}

function put(values: Record<string, unknown>, aux: Record<string, Aux>, name: string, one: One | undefined): void {
  if (!one) return;
  values[name] = one.value;
  if (one.aux) aux[name] = one.aux;
}

function remember(recent: readonly string[], ...hashes: string[]): string[] {
  return [...recent.filter((h) => !hashes.includes(h)), ...hashes].slice(-RECENT_EVENTS);
}

/**
 * Applies one event. Returns the same state object when nothing changed (no definition matched,
 * or the event was applied already).
 */
export function applyEvent(defs: ComputedDefs, state: ComputedState, event: ScherpEvent, at?: StreamPosition): ComputedState {
  if (appliedAt(state, at)) return state;
  const hash = eventKeyOf(event);
  if (state.recent.includes(hash)) return state;
  const values = dict<unknown>(state.values);
  const aux = dict<Aux>(state.aux);
  let touched = false;
  for (const [name, d] of Object.entries(defs)) {
    const folded = pendingOf(own(state.aux, name), event);
    if (folded !== undefined && folded.changed) {
      setPending(aux, name, folded.x, own(state.aux, name)?.xu);
      touched = true;
    }
    if (!matches(d, event)) continue;
    touched = true;
    // A recompute folded this event into the trait already: the other traits still take it.
    if (folded?.x.includes(hash)) {
      setPending(
        aux,
        name,
        folded.x.filter((h) => h !== hash),
        own(state.aux, name)?.xu,
      );
      continue;
    }
    const raw = d.op === 'count' ? undefined : readPath(event, d.property!);
    put(values, aux, name, step(d, get(state, name), raw, event.timestamp));
    if (folded !== undefined) setPending(aux, name, folded.x, own(state.aux, name)?.xu);
  }
  if (!touched) return state;
  const seen = joinSeen([state], at);
  return { values, aux, recent: remember(state.recent, hash), ...(seen ? { seen } : {}) };
}

/** A trait's list of events a recompute folded in, dropped once an event received after its end arrives. */
function pendingOf(a: Aux | undefined, event: ScherpEvent): { x: readonly string[]; changed: boolean } | undefined {
  if (!a?.x) return undefined;
  const received = Date.parse(event.receivedAt);
  if (a.xu !== undefined && received > Date.parse(a.xu)) return { x: [], changed: true };
  return { x: a.x, changed: false };
}

function setPending(aux: Record<string, Aux>, name: string, x: readonly string[], xu: string | undefined): void {
  const { x: _x, xu: _xu, ...rest } = own(aux, name) ?? {};
  if (x.length === 0) {
    if (Object.keys(rest).length === 0) delete aux[name];
    else aux[name] = rest;
  } else aux[name] = { ...rest, x: [...x], ...(xu !== undefined ? { xu } : {}) };
}

function combineOne(d: ComputedDef, a: One | undefined, b: One | undefined): One | undefined {
  if (!a) return b;
  if (!b) return a;
  switch (d.op) {
    case 'count':
    case 'sum':
      return { value: round((a.value as number) + (b.value as number)) };
    case 'avg': {
      const s = round((a.aux?.s ?? 0) + (b.aux?.s ?? 0));
      const n = (a.aux?.n ?? 0) + (b.aux?.n ?? 0);
      return { value: n === 0 ? 0 : round(s / n), aux: { s, n } };
    }
    case 'min':
      return { value: Math.min(a.value as number, b.value as number) };
    case 'max':
      return { value: Math.max(a.value as number, b.value as number) };
    case 'first':
    case 'last':
      return better(d.op, a, b);
    case 'mostFrequent': {
      const c = dict<number>(a.aux?.c);
      for (const [k, n] of Object.entries(b.aux?.c ?? {}))
        if (has(c, k) || Object.keys(c).length < MOST_FREQUENT_VALUES) c[k] = (own(c, k) ?? 0) + n;
      return { value: argmax(c), aux: { c } };
    }
    case 'unique':
      return { value: sortedUnique([...(a.value as unknown[]), ...(b.value as unknown[])], d.limit) };
  }
}

/**
 * The survivor's values after a merge (`mergeKey` identifies the merge, so applying it again
 * changes nothing): counts and sums add, min/max, first/last by time, unique lists unite.
 */
export function combineComputed(
  defs: ComputedDefs,
  survivor: ComputedState,
  losers: readonly ComputedState[],
  mergeKey: string,
  at?: StreamPosition,
): ComputedState {
  if (appliedAt(survivor, at)) return survivor;
  const hash = eventHash(`merge#${mergeKey}`);
  if (survivor.recent.includes(hash)) return survivor;
  const values = dict<unknown>();
  const aux = dict<Aux>();
  for (const [name, d] of Object.entries(defs)) {
    const mine = own(survivor.aux, name);
    let one = get(survivor, name);
    // A recompute folded the merged profiles' events into this trait already.
    const folded = mine?.x?.includes(hash) === true;
    if (!folded) for (const l of losers) one = combineOne(d, one, get(l, name));
    put(values, aux, name, one);
    const lists = [mine, ...losers.map((l) => own(l.aux, name))];
    const x = lists.flatMap((a) => a?.x ?? []).filter((h) => h !== hash);
    const xu = lists
      .map((a) => a?.xu)
      .filter((t): t is string => t !== undefined)
      .sort()
      .at(-1);
    if (x.length > 0 || has(aux, name)) setPending(aux, name, [...new Set(x)], xu);
  }
  const seen = joinSeen([...losers, survivor], at);
  return { values, aux, recent: remember([...losers.flatMap((l) => l.recent), ...survivor.recent], hash), ...(seen ? { seen } : {}) };
}

/** One change to a profile's computed traits: an event, or merged profiles' traits combined in. */
export type ComputedStep =
  | { readonly kind: 'event'; readonly event: ScherpEvent; readonly at?: StreamPosition }
  | { readonly kind: 'merge'; readonly losers: readonly ComputedState[]; readonly mergeKey: string; readonly at?: StreamPosition };

/** Applies one step (a no-op when it was applied already). */
export function applyStep(defs: ComputedDefs, state: ComputedState, step: ComputedStep): ComputedState {
  return step.kind === 'event'
    ? applyEvent(defs, state, step.event, step.at)
    : combineComputed(defs, state, step.losers, step.mergeKey, step.at);
}

/**
 * Applies a stream batch's steps for one profile in order. Each is a no-op when the state holds
 * it already (its partition's mark, or its hash), so folding the same steps again onto a state
 * that a concurrent writer (or an earlier attempt whose answer was lost) changed applies only
 * what is missing: the batch's write is exactly once.
 */
export function foldSteps(defs: ComputedDefs, state: ComputedState, steps: readonly ComputedStep[]): ComputedState {
  return steps.reduce((s, step) => applyStep(defs, s, step), state);
}

/** What a recompute of one profile's computed traits works from (`recomputeComputed`). */
export interface RecomputeInput {
  /** Traits computed again from the events alone (new, or their definition changed). */
  readonly recompute: readonly string[];
  /** Traits no longer defined: their values go. */
  readonly remove: readonly string[];
  /** The profile's timeline within retention, every partition of it (an event stored twice counts once). */
  readonly events: readonly ScherpEvent[];
  /** The merge records of those partitions: the key `combineComputed` is given for each, and when it happened. */
  readonly merges: readonly { readonly key: string; readonly at: string }[];
  readonly nowMs: number;
  /**
   * How long after its receipt (merge: after it happened) an event may still reach `evaluate`
   * for the first time: such events that the stored state does not list as applied are marked
   * on the trait (`Aux.x`), so `evaluate` does not apply them to it a second time.
   */
  readonly pendingMs: number;
  /**
   * Hashes of events whose evaluation failed and is noted for a replay, which may come at any
   * time: listed whatever their age, and then the list is kept until each is applied.
   */
  readonly replayable?: ReadonlySet<string>;
}

/**
 * The state with `recompute` folded again from the events alone and `remove` dropped; every
 * other trait, the auxiliary state, the applied-events list and the stream marks (`seen`,
 * `into`) stay as stored. Events the
 * stored state does not show as applied (not in `recent`) and received within `pendingMs` may
 * still be evaluated: their hashes go on the recomputed trait (`Aux.x`), so `applyEvent` applies
 * them to the other traits only. Pure; the same input gives the same state.
 */
export function recomputeComputed(defs: ComputedDefs, state: ComputedState, input: RecomputeInput): ComputedState {
  const values = dict<unknown>(state.values);
  const aux = dict<Aux>(state.aux);
  for (const name of [...input.remove, ...input.recompute]) {
    delete values[name];
    delete aux[name];
  }
  const byHash = new Map<string, ScherpEvent>();
  for (const e of input.events) byHash.set(eventKeyOf(e), e);
  const events = [...byHash.entries()].sort(([, a], [, b]) =>
    a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0,
  );
  const since = input.nowMs - input.pendingMs;
  const replayable = input.replayable ?? new Set<string>();
  const mayCome = (hash: string, at: string) => !state.recent.includes(hash) && (replayable.has(hash) || !(Date.parse(at) <= since));
  const merges = input.merges.map((m) => ({ hash: eventHash(`merge#${m.key}`), at: m.at })).filter((m) => mayCome(m.hash, m.at));
  const until = new Date(input.nowMs + input.pendingMs).toISOString();
  for (const name of input.recompute) {
    const d = own(defs, name);
    if (!d) continue;
    let one: One | undefined;
    const x: string[] = [];
    for (const [hash, e] of events) {
      if (!matches(d, e)) continue;
      one = step(d, one, d.op === 'count' ? undefined : readPath(e, d.property!), e.timestamp);
      if (mayCome(hash, e.receivedAt)) x.push(hash);
    }
    put(values, aux, name, one);
    x.push(...merges.map((m) => m.hash));
    if (x.length > 0) setPending(aux, name, x, x.some((h) => replayable.has(h)) ? undefined : until);
  }
  // The stream marks and a seal stay as they are: the recompute applies no stream record.
  return { ...state, values, aux };
}
