/**
 * Undoing identity: which identifiers, profiles and events go to which side when a profile is
 * split (`POST /v1/profiles/{type}:{value}/split`). Pure; `app/split.ts` reads and writes.
 *
 * - **detach** `type:value`: that identifier leaves for a new profile; the rest stays.
 * - **undoMerge** `<merge id>`: the identifiers are grouped again by the evidence that linked
 *   them (the events of the group and the other merge records, each tying its identifiers
 *   together) without the undone merge's event; the components holding identifiers of the
 *   profiles that merge absorbed become profiles of their own again (the smallest profile id of
 *   each revived), the rest stays with the survivor. When other evidence still ties the absorbed
 *   profiles' identifiers to the survivor's own (linked before the merge), nothing can be
 *   separated that way: {@link SplitNotPossible} (detach the identifiers instead).
 *
 * Every event then belongs to the side holding its highest-priority identifier (the identifier
 * that always links, `planLinks`), or, holding none, to the side of the partition it is in.
 * Traits are recomputed per side from its events, newest per trait as at ingest; a trait no event
 * of either side sets (set by a rule, or from events past their retention) stays with the kept side.
 */
import type { IdentityConfig } from './config';
import { chooseSurvivor, extractIdentifiers, identifierKey, identifierRef } from './identity';
import type { IdentityItemView } from './identity-graph';
import type { ScherpEvent } from './events';
import { applyTraits, identifyTraits, type MergeRecord, type Profile, type TraitPolicy, type Traits } from './profile';
import { dict } from './dict';

export class SplitNotPossible extends Error {}

/** The due-index entry (`app/expiry.ts`) of a split's final settle pass: its audience id names the split. */
const SPLIT_SETTLE_PREFIX = '~split:';

/** The due item of a split's final settle pass at `dueMs` (rule ids never start with `~`). */
export function finalSettleDue(keptId: string, splitId: string, dueMs: number): { audienceId: string; profileId: string; dueAt: string } {
  return { audienceId: `${SPLIT_SETTLE_PREFIX}${splitId}`, profileId: keptId, dueAt: new Date(dueMs).toISOString() };
}

/** The split id a due item's audience id names, if it is a final settle pass. */
export function splitOfDue(audienceId: string): string | undefined {
  return audienceId.startsWith(SPLIT_SETTLE_PREFIX) ? audienceId.slice(SPLIT_SETTLE_PREFIX.length) : undefined;
}

export interface GroupProfile {
  readonly profile: Profile;
  readonly version: number;
}

export interface PartitionEvent {
  /** The partition (profile id) it is stored in. */
  readonly profileId: string;
  readonly sk: string;
  readonly event: ScherpEvent;
}

/** One side of a split: its root, the profiles merged into it, its identifiers. */
export interface Side {
  readonly rootId: string;
  readonly members: readonly string[];
  readonly identifiers: readonly string[];
}

export type SplitTarget =
  | { readonly kind: 'detach'; readonly key: string; readonly newProfileId: string }
  | { readonly kind: 'undoMerge'; readonly record: MergeRecord };

export interface SplitSides {
  /** Kept first. */
  readonly sides: readonly Side[];
}

function unionFind() {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    if (!parent.has(x)) parent.set(x, x);
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  const union = (a: string, b: string) => {
    const ra = find(a);
    const rb = find(b);
    if (ra === rb) return;
    // The smaller root wins.
    const [lo, hi] = [ra, rb].sort() as [string, string];
    parent.set(hi, lo);
  };
  return { find, union };
}

/** The profile ids whose `mergedInto` chain passes through `through` (itself included). */
function subtree(group: ReadonlyMap<string, GroupProfile>, through: string): Set<string> {
  const out = new Set<string>();
  for (const id of group.keys()) {
    let cur: string | undefined = id;
    for (let hop = 0; cur !== undefined && hop < 64; hop++) {
      if (cur === through) {
        out.add(id);
        break;
      }
      cur = group.get(cur)?.profile.mergedInto;
    }
  }
  return out;
}

/** Which side each identifier and profile of the group goes to. */
export function splitSides(input: {
  readonly survivor: Profile;
  /** Every profile of the group (survivor included), as stored. */
  readonly group: ReadonlyMap<string, GroupProfile>;
  readonly items: ReadonlyMap<string, IdentityItemView>;
  readonly events: readonly PartitionEvent[];
  /** The other merge and refusal records of the group (evidence). */
  readonly records: readonly MergeRecord[];
  readonly target: SplitTarget;
  readonly identity: IdentityConfig;
}): SplitSides {
  const S = input.survivor;
  const all = new Set(S.identifiers);
  const groupIds = [...input.group.keys()];
  if (input.target.kind === 'detach') {
    const key = input.target.key;
    return {
      sides: [
        { rootId: S.id, members: groupIds.filter((id) => id !== S.id), identifiers: S.identifiers.filter((k) => k !== key) },
        { rootId: input.target.newProfileId, members: [], identifiers: [key] },
      ],
    };
  }
  const m = input.target.record;
  const uf = unionFind();
  const evidenced = new Set<string>();
  const tie = (keys: readonly string[]) => {
    const ks = keys.filter((k) => all.has(k));
    for (const k of ks) evidenced.add(k);
    for (let i = 1; i < ks.length; i++) uf.union(ks[0]!, ks[i]!);
  };
  for (const e of input.events) {
    if (e.event.messageId === m.messageId && e.event.timestamp === m.eventTimestamp) continue;
    tie(extractIdentifiers(e.event, input.identity).map(identifierKey));
  }
  for (const r of input.records) if (!(r.messageId === m.messageId && r.eventTimestamp === m.eventTimestamp)) tie(r.identifiers);
  // Identifiers no kept evidence names (events past retention) stay with the profile they were linked to.
  for (const k of all) {
    uf.find(k);
    if (!evidenced.has(k)) uf.union(k, `#p:${input.items.get(k)?.profileId ?? S.id}`);
  }
  // The absorbed side: components of the identifiers the merge's absorbed profiles held.
  const absorbed = new Set<string>();
  for (const l of m.merged) for (const id of subtree(input.group, l)) absorbed.add(id);
  const dRoots = new Set<string>();
  for (const l of m.merged) for (const k of input.group.get(l)?.profile.identifiers ?? []) if (all.has(k)) dRoots.add(uf.find(k));
  // The absorbing profile's own: identifiers linked before the merge to it or to a profile it had
  // absorbed before (a merged profile's root was last written when it was absorbed).
  const absorber = new Set(
    [...subtree(input.group, m.profileId)].filter((id) => id === m.profileId || (input.group.get(id)?.profile.updatedAt ?? '') < m.at),
  );
  for (const k of all) {
    const it = input.items.get(k);
    if (!it || !absorber.has(it.profileId) || absorbed.has(it.profileId) || it.at >= m.at) continue;
    if (dRoots.has(uf.find(k)))
      throw new SplitNotPossible(
        'other events still link the merged profiles to the rest of the profile: detach the identifiers one by one instead',
      );
  }
  if (dRoots.size === 0) throw new SplitNotPossible('the merged profiles hold none of the profile identifiers any more');
  // Each component of the absorbed side is a side; each profile goes where its identity items are.
  const comps = [...dRoots];
  const sideOfKey = (k: string) => {
    const i = comps.indexOf(uf.find(k));
    return i === -1 ? 0 : i + 1;
  };
  // Where a profile whose identity items do not say (none, or on several sides) goes: with the
  // merged profile whose subtree it is in, else it stays.
  const structural = (id: string): number => {
    for (const l of m.merged) {
      if (!subtree(input.group, l).has(id)) continue;
      const k = (input.group.get(l)?.profile.identifiers ?? []).find((x) => all.has(x));
      if (k !== undefined) return sideOfKey(k);
    }
    return 0;
  };
  const profileSide = new Map<string, number>();
  for (const id of groupIds) {
    const keys = [...input.items].filter(([, it]) => it.profileId === id).map(([k]) => k);
    const sides = new Set(keys.map(sideOfKey));
    profileSide.set(id, id === S.id ? 0 : sides.size === 1 ? [...sides][0]! : structural(id));
  }
  const sides: Side[] = [];
  for (let s = 0; s <= comps.length; s++) {
    const members = groupIds.filter((id) => profileSide.get(id) === s);
    const identifiers = S.identifiers.filter((k) => sideOfKey(k) === s);
    if (s > 0 && (members.length === 0 || identifiers.length === 0)) {
      // No profile of its own to revive: its identifiers stay.
      for (const id of members) profileSide.set(id, 0);
      continue;
    }
    const rootId = s === 0 ? S.id : chooseSurvivor(members);
    sides.push({ rootId, members: members.filter((id) => id !== rootId), identifiers });
  }
  const kept = sides[0]!;
  const dropped = new Set(sides.slice(1).flatMap((x) => x.identifiers));
  const rest = S.identifiers.filter((k) => !dropped.has(k));
  const keptMembers = groupIds.filter((id) => id !== S.id && !sides.slice(1).some((x) => x.rootId === id || x.members.includes(id)));
  return { sides: [{ ...kept, identifiers: rest, members: keptMembers }, ...sides.slice(1)] };
}

/** The side an event belongs to: the side of its highest-priority identifier, else of its partition. */
export function sideOfEvent(sides: readonly Side[], e: Pick<PartitionEvent, 'profileId' | 'event'>, identity: IdentityConfig): number {
  for (const k of extractIdentifiers(e.event, identity).map(identifierKey)) {
    const i = sides.findIndex((s) => s.identifiers.includes(k));
    if (i !== -1) return i;
  }
  const i = sides.findIndex((s) => s.rootId === e.profileId || s.members.includes(e.profileId));
  return i === -1 ? 0 : i;
}

/** The side whose partitions (root or a profile merged into it) hold `profileId`; -1 if none. */
function sideOfPartition(sides: readonly Side[], profileId: string): number {
  return sides.findIndex((s) => s.rootId === profileId || s.members.includes(profileId));
}

/**
 * After a split each side keeps its merge records (the undone merge's included), and they named
 * the identifiers of both people: the records whose identifiers another side holds now, with
 * those as refs (`identifierRef`: type and digest), so erasing that person leaves none of their
 * values in this side's partitions (explain names them `others`). Only the records that change.
 */
export function recordsWithoutOthers(sides: readonly Side[], records: readonly MergeRecord[]): MergeRecord[] {
  const out: MergeRecord[] = [];
  for (const r of records) {
    const i = sideOfPartition(sides, r.profileId);
    if (i === -1) continue;
    const others = new Set(sides.flatMap((s, j) => (j === i ? [] : s.identifiers)));
    if (!r.identifiers.some((k) => others.has(k))) continue;
    out.push({ ...r, identifiers: r.identifiers.map((k) => (others.has(k) ? identifierRef(k) : k)) });
  }
  return out;
}

/**
 * The refs of the identifiers an event stored on side `i` names that another side holds (the
 * event that linked them, or one of either person stored during the split): erasing that person
 * finds the event by them and takes their values out of it (`ProfileStore.indexForeignIdentifiers`).
 */
export function othersNamed(sides: readonly Side[], i: number, event: ScherpEvent, identity: IdentityConfig): string[] {
  const others = new Set(sides.flatMap((s, j) => (j === i ? [] : s.identifiers)));
  return [...new Set(extractIdentifiers(event, identity).map(identifierKey))].filter((k) => others.has(k)).map(identifierRef);
}

/** Traits from a side's events, as ingest computes them; `keep`: traits none of `allEvents` sets (kept side only). */
export function traitsFrom(
  events: readonly ScherpEvent[],
  policy: TraitPolicy | undefined,
  keep?: { traits: Traits; allEvents: readonly ScherpEvent[] },
): Traits {
  let traits: Traits = dict();
  for (const e of events) traits = applyTraits(traits, identifyTraits(e), e.timestamp, e.sourceId, e.party, policy, e.trust);
  if (keep) {
    const set = new Set<string>();
    for (const e of keep.allEvents) for (const k of Object.keys(identifyTraits(e) ?? {})) set.add(k);
    const out = dict(traits);
    for (const [k, v] of Object.entries(keep.traits)) if (!set.has(k)) out[k] = v;
    return out;
  }
  return traits;
}

/** How each profile root of the group is written by the split: the roots revived and kept, and pointers rewired. */
export function splitRoots(
  group: ReadonlyMap<string, GroupProfile>,
  sides: readonly Side[],
  traits: readonly Traits[],
  at: string,
  extra: { readonly blocked?: string; readonly splitFrom: string },
): { profile: Profile; expectedVersion: number }[] {
  const out: { profile: Profile; expectedVersion: number }[] = [];
  sides.forEach((side, i) => {
    const members = new Set(side.members);
    const stored = group.get(side.rootId);
    const base: Profile = stored?.profile ?? { id: side.rootId, identifiers: [], traits: dict(), createdAt: at, updatedAt: at };
    const { mergedInto: _into, mergedFrom: _from, quarantine: _q, breaker: _b, ...rest } = base;
    const root: Profile = {
      ...rest,
      ...(i === 0 && base.quarantine ? { quarantine: base.quarantine } : {}),
      identifiers: [...side.identifiers].sort(),
      traits: traits[i]!,
      updatedAt: at,
      ...(members.size > 0 ? { mergedFrom: [...members].sort() } : {}),
      ...(i === 0 && extra.blocked ? { blocked: [...new Set([...(base.blocked ?? []), extra.blocked])].sort() } : {}),
      ...(i > 0 ? { splitFrom: extra.splitFrom } : {}),
    };
    out.push({ profile: root, expectedVersion: stored?.version ?? 0 });
    for (const id of side.members) {
      const g = group.get(id);
      if (!g) continue;
      const p = g.profile;
      const into = p.mergedInto !== undefined && (members.has(p.mergedInto) || p.mergedInto === side.rootId) ? p.mergedInto : side.rootId;
      const from = (p.mergedFrom ?? []).filter((x) => members.has(x));
      const sameFrom = from.length === (p.mergedFrom ?? []).length;
      if (into === p.mergedInto && sameFrom) continue;
      const { mergedFrom: _mf, ...keep } = p;
      out.push({ profile: { ...keep, mergedInto: into, ...(from.length > 0 ? { mergedFrom: from } : {}) }, expectedVersion: g.version });
    }
  });
  return out;
}
