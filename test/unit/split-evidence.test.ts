/**
 * What a split leaves of each person in the other side's partitions (`core/split.ts`): merge
 * records naming the other side's identifiers by ref only, the events naming them indexed by
 * ref, and explain naming those refs `others` (`core/identity-graph.ts`).
 */
import { parseConfig } from '../../core/config';
import { explainGraph } from '../../core/identity-graph';
import { identifierDigest, identifierRef } from '../../core/identity';
import type { MergeRecord } from '../../core/profile';
import { othersNamed, recordsWithoutOthers, type Side } from '../../core/split';
import { eventFactory } from '../helpers/events';

const identity = parseConfig({}).identity;
const event = eventFactory();
const sides: Side[] = [
  { rootId: 'pa', members: ['pb'], identifiers: ['user_id:a', 'anonymous_id:b'] },
  { rootId: 'px', members: [], identifiers: ['anonymous_id:x', 'email:x@example.com'] },
];
const record = (profileId: string, identifiers: string[], messageId = 'm1'): MergeRecord => ({
  profileId,
  at: '2026-01-01T00:00:00.000Z',
  messageId,
  eventTimestamp: '2026-01-01T00:00:00.000Z',
  merged: ['px'],
  identifiers,
  refused: [],
});

test('merge records keep the other side’s identifiers as refs; records naming only their own side are left', () => {
  const undone = record('pa', ['user_id:a', 'anonymous_id:x']);
  const own = record('pb', ['anonymous_id:b', 'user_id:a'], 'm2');
  const onX = record('px', ['email:x@example.com', 'user_id:a'], 'm3');
  const elsewhere = record('pz', ['anonymous_id:x'], 'm4');
  expect(recordsWithoutOthers(sides, [undone, own, onX, elsewhere])).toEqual([
    { ...undone, identifiers: ['user_id:a', identifierRef('anonymous_id:x')] },
    { ...onX, identifiers: ['email:x@example.com', identifierRef('user_id:a')] },
  ]);
  // Rewritten records change no more.
  expect(recordsWithoutOthers(sides, recordsWithoutOthers(sides, [undone, onX]))).toEqual([]);
});

test('an event names the refs of the other side’s identifiers it carries', () => {
  const linking = event({ userId: 'a', anonymousId: 'x', context: { traits: { email: 'X@example.com' } } });
  expect(othersNamed(sides, 0, linking, identity).sort()).toEqual(
    [identifierRef('anonymous_id:x'), identifierRef('email:x@example.com')].sort(),
  );
  expect(othersNamed(sides, 1, linking, identity)).toEqual([identifierRef('user_id:a')]);
  expect(othersNamed(sides, 0, event({ userId: 'a', anonymousId: 'b' }), identity)).toEqual([]);
});

test('explain shows a rewritten merge record’s refs as others, its own identifiers by value', () => {
  const g = explainGraph({
    profileId: 'pa',
    identifiers: ['user_id:a'],
    items: new Map(),
    records: [record('pa', ['user_id:a', identifierRef('anonymous_id:x')])],
    splits: [],
  });
  expect(g.merges[0]!.linkedBy).toMatchObject({
    identifiers: ['user_id:a'],
    others: [{ type: 'anonymous_id', digest: identifierDigest('anonymous_id:x') }],
  });
  // A record from before refs (or never rewritten) is shown as stored.
  const old = explainGraph({
    profileId: 'pa',
    identifiers: ['user_id:a'],
    items: new Map(),
    records: [record('pa', ['user_id:a', 'anonymous_id:x'])],
    splits: [],
  });
  expect(old.merges[0]!.linkedBy).toMatchObject({ identifiers: ['user_id:a', 'anonymous_id:x'], others: [] });
});
