/**
 * The storage invariant checker's logic (core/invariants.ts): a consistent snapshot passes, and
 * each kind of damage is reported as its own invariant.
 */
import { checkInvariants, formatReport, type StorageSnapshot } from '../../core/invariants';
import { ComputedConfigSchema } from '../../core/computed';
import type { ScherpEvent } from '../../core/events';
import { identifierDigest, identifierRef } from '../../core/identity';

const ev = (profileId: string, i: number, over: Partial<ScherpEvent> = {}) => ({
  profileId,
  event: {
    type: 'track',
    event: 'Viewed',
    messageId: `m${profileId}${i}`,
    sourceId: 's',
    timestamp: `2026-01-01T00:00:0${i}.000Z`,
    receivedAt: '2026-01-01T00:00:00.000Z',
    userId: 'u1',
    ...over,
  } as ScherpEvent,
});

/** Two profiles, b merged into a; a holds user_id:u1 and anonymous_id:x, b's anonymous_id:y points at b. */
function healthy(): StorageSnapshot {
  return {
    identities: [
      { key: 'user_id:u1', profileId: 'a' },
      { key: 'anonymous_id:x', profileId: 'a' },
      { key: 'anonymous_id:y', profileId: 'b' },
    ],
    roots: [
      { id: 'a', identifiers: ['anonymous_id:x', 'anonymous_id:y', 'user_id:u1'] },
      { id: 'b', identifiers: ['anonymous_id:y'], mergedInto: 'a' },
    ],
    events: [ev('a', 1), ev('a', 2), ev('b', 3)],
    computed: new Map([['a', { event_count: 3 }]]),
    items: [
      { pk: 'P#a', sk: 'PROFILE', strings: ['user_id:u1'] },
      { pk: 'P#a', sk: 'EV#1', profileId: 'a', strings: ['u1'] },
      { pk: 'P#b', sk: 'PROFILE', strings: [] },
    ],
  };
}

const defs = ComputedConfigSchema.parse({});
const names = (s: StorageSnapshot, opts = {}) =>
  checkInvariants(s, { computed: defs, nowSeconds: 0, ...opts }).violations.map((v) => v.invariant);

test('a consistent table passes every invariant', () => {
  const r = checkInvariants(healthy(), { computed: defs, nowSeconds: 0 });
  expect(r.violations).toEqual([]);
  expect(formatReport(r)).toMatch(/every invariant holds/);
});

test('an orphan root (a lost stitch race) is reported, with the identifier it shares', () => {
  const s = healthy();
  const damaged = { ...s, roots: [...s.roots, { id: 'c', identifiers: ['user_id:u1'] }] };
  expect(names(damaged)).toEqual(['orphan_root', 'shared_identifier']);
});

test('an identity item pointing at a missing root, or at a profile that does not list it', () => {
  const s = healthy();
  expect(names({ ...s, identities: [...s.identities, { key: 'email:a@example.com', profileId: 'gone' }] })).toEqual(['dangling_identity']);
  expect(names({ ...s, identities: [...s.identities, { key: 'email:a@example.com', profileId: 'b' }] })).toEqual(['identity_not_listed']);
});

test('a merge chain that ends nowhere or loops', () => {
  const s = healthy();
  const roots = [
    { id: 'a', identifiers: ['anonymous_id:x', 'user_id:u1'] },
    { id: 'b', identifiers: ['anonymous_id:y'], mergedInto: 'z' },
  ];
  expect(names({ ...s, roots })).toContain('broken_merge_chain');
  const loop = [
    { id: 'a', identifiers: ['anonymous_id:x', 'anonymous_id:y', 'user_id:u1'] },
    { id: 'b', identifiers: [], mergedInto: 'c' },
    { id: 'c', identifiers: [], mergedInto: 'b' },
  ];
  expect(names({ ...s, roots: loop })).toContain('broken_merge_chain');
});

test('profile items that outlive their root', () => {
  const s = healthy();
  expect(names({ ...s, items: [...s.items, { pk: 'P#erased', sk: 'PROFILE#C', profileId: 'erased', strings: [] }] })).toEqual([
    'part_without_root',
  ]);
});

test('a computed count that differs from the timelines, unless some event passed its retention', () => {
  const s = healthy();
  expect(names({ ...s, computed: new Map([['a', { event_count: 4 }]]) })).toEqual(['computed_count']);
  const expired = {
    ...s,
    events: [...s.events.slice(0, 2), { ...s.events[2]!, expiresAt: 10 }],
    computed: new Map([['a', { event_count: 2 }]]),
  };
  expect(names(expired, { nowSeconds: 100 })).toEqual([]);
  // order_count counts only Order Completed tracks: 0 here, absent on the item is 0.
  expect(names({ ...s, computed: new Map([['a', { event_count: 3, order_count: 1 }]]) })).toEqual(['computed_count']);
});

test('after an erasure, any item naming an erased identifier', () => {
  const s = healthy();
  expect(names(s, { erased: ['user_id:u1'] })).toEqual(['erased_named', 'erased_named']);
  expect(names(s, { erased: ['user_id:u10', 'email:nobody@example.com'] })).toEqual([]);
  const identityKey = { ...s, items: [{ pk: 'ID#email#ada@example.com', sk: 'ID', strings: ['ID#email#ada@example.com', 'a'] }] };
  expect(names(identityKey, { erased: ['email:Ada@Example.com'] })).toEqual(['erased_named']);
});

test("after an erasure, an index entry of another profile's event naming the erased identifier (not redacted); a refusal record keeping its digest is fine", () => {
  const s = healthy();
  const digest = identifierDigest('anonymous_id:gone');
  const ref = identifierRef('anonymous_id:gone');
  const record = { pk: 'P#a', sk: 'MERGE#t#m', profileId: 'a', strings: ['P#a', 'MERGE#t#m', 'qref', ref] };
  const entry = { pk: `FX#${digest}`, sk: 'a#EV#t#m', strings: [`FX#${digest}`, 'a#EV#t#m'], indexes: digest };
  expect(names({ ...s, items: [...s.items, record] }, { erased: ['anonymous_id:gone'] })).toEqual([]);
  expect(names({ ...s, items: [...s.items, record, entry] }, { erased: ['anonymous_id:gone'] })).toEqual(['erased_named']);
  expect(names({ ...s, items: [...s.items, entry] }, { erased: ['anonymous_id:other'] })).toEqual([]);
});

test('after an erasure, an item holding another value of the erased person (a trait left on another root after a split)', () => {
  const s = healthy();
  const root = { pk: 'P#a', sk: 'PROFILE', profileId: 'a', strings: ['P#a', 'PROFILE', 'tr', 'name', 'Xavier Person'] };
  expect(names({ ...s, items: [...s.items, root] }, { erased: ['anonymous_id:gone'], erasedValues: ['xavier'] })).toEqual(['erased_named']);
  expect(names({ ...s, items: [...s.items, root] }, { erased: ['anonymous_id:gone'], erasedValues: ['Ada'] })).toEqual([]);
  expect(names({ ...s, items: [...s.items, root] }, { erasedValues: [''] })).toEqual([]);
});
