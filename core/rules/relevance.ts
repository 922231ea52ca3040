/**
 * Which audiences an event can change: an index built from the audience conditions and the
 * computed-trait definitions, so `evaluate` can skip its read for an event that can change
 * nothing but computed traits (`app/evaluate.ts`).
 *
 * Conservative: an audience depends on the event when any leaf of its condition reads `event.`,
 * a history condition, or any profile attribute other than a computed trait (traits,
 * identifiers, audiences and consent also change through merges and rule actions, so every
 * event may change them); it depends on a computed trait only through events its definition
 * counts. A computed trait without a definition never changes.
 */
import { matches, type ComputedDefs } from '../computed';
import type { ScherpEvent } from '../events';
import type { Condition } from './schema';

const COMPUTED_PREFIX = 'profile.computed.';

/** What a condition reads: `always` (the event, history, or profile state any event can change), or these computed traits. */
export interface ConditionReads {
  readonly always: boolean;
  readonly computed: ReadonlySet<string>;
}

/** The reads of a condition, without recursion (conditions nest up to 64 levels). */
export function conditionReads(cond: Condition): ConditionReads {
  const computed = new Set<string>();
  const stack: Condition[] = [cond];
  while (stack.length > 0) {
    const c = stack.pop()!;
    if ('all' in c) stack.push(...c.all);
    else if ('any' in c) stack.push(...c.any);
    else if ('not' in c) stack.push(c.not);
    else if ('history' in c) return { always: true, computed };
    else if (c.path.startsWith(COMPUTED_PREFIX)) computed.add(c.path.slice(COMPUTED_PREFIX.length).split(/[.[]/, 1)[0]!);
    else return { always: true, computed };
  }
  return { always: false, computed };
}

const cache = new WeakMap<readonly { readonly condition: Condition }[], ConditionReads>();

/** The reads of a list of audiences together (kept per list: a rule set's list is built once). */
function readsOf(audiences: readonly { readonly condition: Condition }[]): ConditionReads {
  let r = cache.get(audiences);
  if (!r) {
    const computed = new Set<string>();
    let always = false;
    for (const a of audiences) {
      const one = conditionReads(a.condition);
      always ||= one.always;
      for (const n of one.computed) computed.add(n);
    }
    r = { always, computed };
    cache.set(audiences, r);
  }
  return r;
}

/** Whether the event can change whether a profile is in one of these audiences. */
export function audiencesCanChange(
  audiences: readonly { readonly condition: Condition }[],
  defs: ComputedDefs | undefined,
  event: ScherpEvent,
): boolean {
  if (audiences.length === 0) return false;
  const r = readsOf(audiences);
  if (r.always) return true;
  for (const name of r.computed) {
    const d = defs && Object.hasOwn(defs, name) ? defs[name] : undefined;
    if (d && matches(d, event)) return true;
  }
  return false;
}
