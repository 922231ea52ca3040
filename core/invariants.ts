/**
 * The storage invariants: what must hold of the whole table once the pipeline has settled,
 * whatever arrived in whatever order, with whatever faults. Checked over a snapshot of the
 * table (`app/check.ts` reads it through a port; `npx scherp check` and the test helpers run
 * it). Pure.
 *
 * 1. `orphan_root`: every live profile root (no `mergedInto`) is reachable from an identity item
 *    (directly, or through the `mergedInto` chain of the profile the item points at).
 * 2. `dangling_identity`: every identity item points at a profile root that exists.
 * 3. `identity_not_listed`: the live profile an identity item leads to lists that identifier.
 * 4. `shared_identifier`: no identifier is listed by two live profiles.
 * 5. `broken_merge_chain`: every `mergedInto` chain ends at a live root (no missing hop, no loop).
 * 6. `part_without_root`: no profile item (part, timeline event, rule state) outlives its root.
 * 7. `computed_count`: each computed `count` of a live profile equals the number of matching
 *    events on the timelines of the profile and of those merged into it (checked only while
 *    none of those events has passed its retention).
 * 8. `erased_named`: after an erasure, no item names an erased identifier (a string equal to
 *    its value, or to `type:value`, in any attribute, event payloads included: merge and refusal
 *    records in any partition too, which keep refused identifiers as digests only), and no index
 *    entry of another profile's event naming it is left (`indexes`: erasure redacts those events
 *    and deletes the entries); attributes kept as JSON text (a root's traits) are read as values.
 *    With `erasedValues` (other values of the person: traits they set), no string of any item
 *    may contain one (a trait of theirs left on another profile's root after a split).
 * 9. `membership_mismatch`: the audiences' member listings are exactly the memberships of the
 *    live profiles (no membership of an erased or merged-away profile, none missing from its
 *    audience's listing), and each audience's count equals its listed members.
 */
import { matches, type ComputedDefs } from './computed';
import type { ScherpEvent } from './events';
import { identifierDigest } from './identifiers';

export interface SnapshotIdentity {
  /** `type:value`. */
  readonly key: string;
  readonly profileId: string;
}

export interface SnapshotRoot {
  readonly id: string;
  /** `type:value` strings. */
  readonly identifiers: readonly string[];
  readonly mergedInto?: string;
}

export interface SnapshotEvent {
  readonly profileId: string;
  readonly event: ScherpEvent;
  /** Its TTL (epoch seconds). */
  readonly expiresAt?: number;
}

/** Any item of the table, as the strings it holds (keys, attribute names and values, event payloads inflated). */
export interface SnapshotItem {
  readonly pk: string;
  readonly sk: string;
  /** The profile whose partition holds it (`P#<id>`), if any. */
  readonly profileId?: string;
  readonly strings: readonly string[];
  /** For an index entry of an event naming an identifier that did not link there: that identifier's digest. */
  readonly indexes?: string;
}

export interface StorageSnapshot {
  readonly identities: readonly SnapshotIdentity[];
  readonly roots: readonly SnapshotRoot[];
  readonly events: readonly SnapshotEvent[];
  /** Computed values per profile (the `PROFILE#C` items). */
  readonly computed: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
  readonly items: readonly SnapshotItem[];
  /** Audience membership as stored (absent: not checked). */
  readonly audiences?: {
    /** What each audience's member listing holds. */
    readonly members: readonly { readonly audienceId: string; readonly profileId: string }[];
    /** Audience ids each profile is a member of, as its partition holds them. */
    readonly parts: ReadonlyMap<string, readonly string[]>;
    /** The sum of each audience's count shards. */
    readonly counts: ReadonlyMap<string, number>;
  };
}

export type InvariantName =
  | 'orphan_root'
  | 'dangling_identity'
  | 'identity_not_listed'
  | 'shared_identifier'
  | 'broken_merge_chain'
  | 'part_without_root'
  | 'computed_count'
  | 'erased_named'
  | 'membership_mismatch';

export interface Violation {
  readonly invariant: InvariantName;
  readonly message: string;
  /** The profiles concerned. */
  readonly profileIds: readonly string[];
}

export interface CheckOptions {
  /** Identifiers (`type:value`, as stored) erased earlier: nothing may name them. */
  readonly erased?: readonly string[];
  /**
   * Other values of the erased person (the traits they set, a name, a city): no string of any
   * item may contain one (case-insensitive), so a trait left on another profile's root is found.
   */
  readonly erasedValues?: readonly string[];
  /** The computed trait definitions, for the `computed_count` check (none: not checked). */
  readonly computed?: ComputedDefs;
  /** Now, in epoch seconds (for retention). */
  readonly nowSeconds?: number;
}

export interface CheckReport {
  readonly ok: boolean;
  readonly counts: {
    readonly identities: number;
    readonly roots: number;
    readonly liveRoots: number;
    readonly events: number;
    readonly items: number;
  };
  readonly violations: readonly Violation[];
}

const MAX_HOPS = 64;

/** The live root a profile id leads to, or why it leads nowhere. */
function resolver(roots: ReadonlyMap<string, SnapshotRoot>) {
  return (start: string): { live: SnapshotRoot } | { broken: string } => {
    const seen = new Set<string>();
    let id = start;
    for (let hop = 0; hop <= MAX_HOPS; hop++) {
      const r = roots.get(id);
      if (!r) return { broken: hop === 0 ? `profile ${id} does not exist` : `the chain from ${start} reaches ${id}, which does not exist` };
      if (!r.mergedInto) return { live: r };
      if (seen.has(id)) return { broken: `the chain from ${start} loops at ${id}` };
      seen.add(id);
      id = r.mergedInto;
    }
    return { broken: `the chain from ${start} is longer than ${MAX_HOPS} hops` };
  };
}

/** The type and value of `type:value`. */
function split(key: string): { type: string; value: string } {
  const i = key.indexOf(':');
  return { type: key.slice(0, i), value: key.slice(i + 1) };
}

/** Checks every invariant over a snapshot of the table. */
export function checkInvariants(s: StorageSnapshot, opts: CheckOptions = {}): CheckReport {
  const violations: Violation[] = [];
  const add = (invariant: InvariantName, message: string, profileIds: readonly string[]) =>
    violations.push({ invariant, message, profileIds });
  const roots = new Map(s.roots.map((r) => [r.id, r]));
  const resolve = resolver(roots);
  const live = s.roots.filter((r) => !r.mergedInto);

  // 5. Merge chains.
  for (const r of s.roots) {
    if (!r.mergedInto) continue;
    const to = resolve(r.id);
    if ('broken' in to) add('broken_merge_chain', to.broken, [r.id]);
  }

  // 2, 3, and what identity items reach (1).
  const reached = new Set<string>();
  for (const i of s.identities) {
    const to = resolve(i.profileId);
    if ('broken' in to) {
      add('dangling_identity', `identity ${split(i.key).type}:… points at ${i.profileId}: ${to.broken}`, [i.profileId]);
      continue;
    }
    reached.add(to.live.id);
    if (!to.live.identifiers.includes(i.key))
      add('identity_not_listed', `identity ${split(i.key).type}:… leads to ${to.live.id}, which does not list it`, [to.live.id]);
  }
  // 1.
  for (const r of live) {
    if (!reached.has(r.id))
      add('orphan_root', `live profile ${r.id} (${r.identifiers.length} identifiers) is reached from no identity item`, [r.id]);
  }
  // 4.
  const holders = new Map<string, string[]>();
  for (const r of live) for (const k of new Set(r.identifiers)) holders.set(k, [...(holders.get(k) ?? []), r.id]);
  for (const [k, ids] of holders)
    if (ids.length > 1) add('shared_identifier', `identifier ${split(k).type}:… is listed by ${ids.length} live profiles`, ids);

  // 6.
  const withoutRoot = new Map<string, number>();
  for (const it of s.items)
    if (it.profileId !== undefined && !roots.has(it.profileId)) withoutRoot.set(it.profileId, (withoutRoot.get(it.profileId) ?? 0) + 1);
  for (const [id, n] of withoutRoot) add('part_without_root', `${n} item(s) of profile ${id} outlive its root`, [id]);

  // 7.
  if (opts.computed) {
    const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
    const groupOf = new Map<string, string>();
    for (const r of s.roots) {
      const to = resolve(r.id);
      if ('live' in to) groupOf.set(r.id, to.live.id);
    }
    const eventsOf = new Map<string, SnapshotEvent[]>();
    for (const e of s.events) {
      const g = groupOf.get(e.profileId);
      if (g !== undefined) eventsOf.set(g, [...(eventsOf.get(g) ?? []), e]);
    }
    for (const r of live) {
      const values = s.computed.get(r.id);
      if (!values) continue;
      const events = eventsOf.get(r.id) ?? [];
      if (events.some((e) => e.expiresAt !== undefined && e.expiresAt <= now)) continue;
      for (const [name, def] of Object.entries(opts.computed)) {
        if (def.op !== 'count') continue;
        const expected = events.filter((e) => matches(def, e.event)).length;
        const got = Object.hasOwn(values, name) ? values[name] : 0;
        if (got !== expected)
          add('computed_count', `profile ${r.id}: ${name} is ${String(got)}, its timelines hold ${expected} matching events`, [r.id]);
      }
    }
  }

  // 8.
  if (opts.erased && opts.erased.length > 0) {
    const needles = opts.erased.map((k) => ({ key: k, digest: identifierDigest(k), ...split(k) }));
    for (const it of s.items) {
      const indexed = it.indexes === undefined ? undefined : needles.find((n) => n.digest === it.indexes);
      if (indexed)
        add('erased_named', `an index entry of an event naming the erased ${indexed.type} is left (the event was not redacted)`, []);
      for (const n of needles) {
        const value = n.value.toLowerCase();
        const hit = it.strings.some((str) => {
          const t = str.toLowerCase();
          return t === value || t === n.key.toLowerCase() || t.endsWith(`#${n.type}#${value}`);
        });
        if (hit)
          add(
            'erased_named',
            `item ${it.pk.slice(0, 2)}… / ${it.sk.split('#')[0]} still names the erased ${n.type}`,
            it.profileId ? [it.profileId] : [],
          );
      }
    }
  }

  if (opts.erasedValues && opts.erasedValues.length > 0) {
    const values = opts.erasedValues.filter((v) => v.length > 0).map((v) => v.toLowerCase());
    for (const it of s.items)
      if (it.strings.some((str) => values.some((v) => str.toLowerCase().includes(v))))
        add(
          'erased_named',
          `item ${it.pk.slice(0, 2)}… / ${it.sk.split('#')[0]} still holds a value of the erased person`,
          it.profileId ? [it.profileId] : [],
        );
  }

  // 9.
  if (s.audiences) {
    const a = s.audiences;
    const expected = new Set<string>();
    for (const r of live) for (const id of a.parts.get(r.id) ?? []) expected.add(`${id}\u0000${r.id}`);
    const stored = new Set(a.members.map((m) => `${m.audienceId}\u0000${m.profileId}`));
    for (const m of a.members)
      if (!expected.has(`${m.audienceId}\u0000${m.profileId}`))
        add('membership_mismatch', `audience ${m.audienceId} lists profile ${m.profileId}, which is not a live member`, [m.profileId]);
    for (const e of expected) {
      const [audienceId, profileId] = e.split('\u0000') as [string, string];
      if (!stored.has(e)) add('membership_mismatch', `profile ${profileId} is in ${audienceId} but not in its member listing`, [profileId]);
    }
    const perAudience = new Map<string, number>();
    for (const m of a.members) perAudience.set(m.audienceId, (perAudience.get(m.audienceId) ?? 0) + 1);
    for (const id of new Set([...perAudience.keys(), ...a.counts.keys()])) {
      const n = perAudience.get(id) ?? 0;
      const c = a.counts.get(id) ?? 0;
      if (n !== c) add('membership_mismatch', `audience ${id} counts ${c} members, ${n} members are listed`, []);
    }
  }

  return {
    ok: violations.length === 0,
    counts: {
      identities: s.identities.length,
      roots: s.roots.length,
      liveRoots: live.length,
      events: s.events.length,
      items: s.items.length,
    },
    violations,
  };
}

/** A report as text lines (for the CLI and test failures). */
export function formatReport(r: CheckReport): string {
  const head = `checked ${r.counts.items} items: ${r.counts.identities} identities, ${r.counts.roots} profile roots (${r.counts.liveRoots} live), ${r.counts.events} timeline events`;
  if (r.ok) return `${head}: every invariant holds`;
  return [`${head}: ${r.violations.length} violation(s)`, ...r.violations.map((v) => `- ${v.invariant}: ${v.message}`)].join('\n');
}
