/**
 * Generators and observers for the order-independence properties: event sets over a small
 * pool of shared identifiers, and the partition of identifiers into profiles they produce.
 */
import fc from 'fast-check';
import type { ProfileStore } from '../../app/ports';
import { resolveSurvivors } from '../../app/resolve';
import { parseConfig } from '../../core/config';
import type { ScherpEvent } from '../../core/events';
import { extractIdentifiers, identifierKey } from '../../core/identity';

/** Limits high enough that the generated events never hit one. */
export const NO_LIMITS = parseConfig({
  identity: {
    types: { user_id: { limit: 50 }, email: { limit: 50 }, anonymous_id: { limit: 50 }, phone: { limit: 50 } },
    maxMergesPerProfile: 1000,
  },
}).identity;

export interface EventSpec {
  readonly anon?: number;
  readonly user?: number;
  readonly email?: number;
  readonly plan?: string;
  readonly second: number;
}

export const eventSpec: fc.Arbitrary<EventSpec> = fc
  .record(
    {
      anon: fc.integer({ min: 0, max: 4 }),
      user: fc.integer({ min: 0, max: 2 }),
      email: fc.integer({ min: 0, max: 2 }),
      plan: fc.constantFrom('free', 'pro', 'team'),
      second: fc.integer({ min: 0, max: 5 }),
    },
    { requiredKeys: ['second'] },
  )
  .filter((e) => e.anon !== undefined || e.user !== undefined || e.email !== undefined);

/** Events and, for each, a sort key that permutes them. */
export const eventSetWithPermutation = fc
  .array(eventSpec, { minLength: 1, maxLength: 7 })
  .chain((specs) =>
    fc.tuple(fc.constant(specs), fc.array(fc.double({ noNaN: true }), { minLength: specs.length, maxLength: specs.length })),
  );

export function permute<T>(xs: readonly T[], keys: readonly number[]): T[] {
  return xs
    .map((x, i) => ({ x, k: keys[i]!, i }))
    .sort((a, b) => a.k - b.k || a.i - b.i)
    .map((p) => p.x);
}

/** The ScherpEvent for a spec, its identifier values prefixed with `ns` (a run's namespace). */
export function toEvent(s: EventSpec, index: number, ns: string): ScherpEvent {
  const traits: Record<string, unknown> = {};
  if (s.email !== undefined) traits.email = `${ns}-e${s.email}@example.com`;
  if (s.plan !== undefined) traits.plan = s.plan;
  return {
    type: 'identify',
    messageId: `${ns}-m${index}`,
    sourceId: 'web',
    ...(s.anon !== undefined ? { anonymousId: `${ns}-a${s.anon}` } : {}),
    ...(s.user !== undefined ? { userId: `${ns}-u${s.user}` } : {}),
    traits,
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, s.second)).toISOString(),
    receivedAt: '2026-01-01T00:00:00.000Z',
  };
}

/**
 * The partition of the events' identifiers into profiles, namespace removed, each group with
 * its profile's trait values: what must not depend on arrival order.
 */
export async function observe(store: ProfileStore, events: readonly ScherpEvent[], ns: string): Promise<string[]> {
  const ids = [...new Map(events.flatMap((e) => extractIdentifiers(e, NO_LIMITS)).map((id) => [identifierKey(id), id])).values()];
  const owners = await store.getIdentityOwners(ids);
  const survivors = await resolveSurvivors(store, [...owners.values()]);
  const groups = new Map<string, string[]>();
  for (const id of ids) {
    const sp = survivors.get(owners.get(identifierKey(id))!);
    if (!sp) throw new Error(`identifier ${identifierKey(id)} leads nowhere`);
    if (!sp.profile.identifiers.includes(identifierKey(id))) throw new Error(`profile does not list ${identifierKey(id)}`);
    groups.set(sp.profile.id, [...(groups.get(sp.profile.id) ?? []), identifierKey(id)]);
  }
  const strip = (s: string) => s.split(ns).join('NS');
  const out: string[] = [];
  for (const [pid, keys] of groups) {
    const p = survivors.get(owners.get(keys[0]!)!)!.profile;
    expect(p.id).toBe(pid);
    const traits = Object.fromEntries(Object.entries(p.traits).map(([k, v]) => [k, [v.value, v.updatedAt]]));
    out.push(
      strip(
        JSON.stringify({
          ids: keys.sort(),
          traits: Object.keys(traits)
            .sort()
            .map((k) => [k, traits[k]]),
        }),
      ),
    );
  }
  return out.sort();
}
