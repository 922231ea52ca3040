/**
 * What stitch asks of the store, counted: the plain hot path reads in two batches and writes
 * one item; a merge writes the same items whatever the history of the profiles it merges.
 */
import { stitch, SuppressedIdentifierError } from '../../app/stitch';
import { eventFactory } from '../helpers/events';
import { MemoryProfileStore } from '../helpers/memory-store';

/** Items each write call puts (a merge: survivor, each loser, the record). */
const ITEMS: Record<string, (args: unknown[]) => number> = {
  saveProfile: () => 1,
  createProfile: () => 2,
  claimIdentity: () => 1,
  putEvent: () => 1,
  putMergeRecord: () => 1,
  mergeProfiles: (a) => 2 + (a[2] as unknown[]).length,
};

/** A memory store that records which store methods were called, and the items written. */
function counting() {
  const store = new MemoryProfileStore();
  const log = { calls: [] as string[], items: 0 };
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        log.calls.push(String(prop));
        log.items += ITEMS[String(prop)]?.(args) ?? 0;
        return v.apply(target, args);
      };
    },
  });
  return { store: proxy, log, reset: () => ((log.calls = []), (log.items = 0)) };
}

const event = eventFactory();

describe('stitch cost', () => {
  it('a plain event on a known profile: two batched reads, one write, no root write', async () => {
    const s = counting();
    await stitch(s.store, event({ anonymousId: 'a', userId: 'u' }));
    s.reset();
    await stitch(s.store, event({ anonymousId: 'a', userId: 'u' }));
    // The identity read carries the suppression markers of erased identifiers: still one batch.
    expect(s.log.calls).toEqual(['lookupIdentities', 'getProfiles', 'putEvent']);
  });

  it('a new profile: its root and first identity item in one transaction, every other identifier claimed after it', async () => {
    const s = counting();
    await stitch(s.store, event({ anonymousId: 'new-a', userId: 'new-u' }));
    // No identity found, so no root read; one transaction (root + user_id, 2 items at 2 WRU
    // each: 4 WRU), the anonymous id's claim (1 WRU) and the event (1 WRU).
    expect(s.log.calls).toEqual(['lookupIdentities', 'createProfile', 'claimIdentity', 'putEvent']);
    expect(s.log.items).toBe(4);
  });

  it('an event carrying an erased identifier is dropped after the one identity read, writing nothing', async () => {
    const s = counting();
    s.store.suppressed.add('user_id:gone');
    await expect(stitch(s.store, event({ anonymousId: 'a2', userId: 'gone' }))).rejects.toThrow(SuppressedIdentifierError);
    expect(s.log.calls).toEqual(['lookupIdentities']);
    expect(s.log.items).toBe(0);
    // Switched off in config: the event is stored as usual.
    await expect(stitch(s.store, event({ anonymousId: 'a2', userId: 'gone' }), { suppressErased: false })).resolves.toMatchObject({
      duplicate: false,
    });
  });

  it.each([10, 1000])('a merge of profiles with %i past events writes the same items', async (history) => {
    const s = counting();
    for (let i = 0; i < history; i++) await stitch(s.store, event({ anonymousId: 'x' }));
    for (let i = 0; i < history; i++) await stitch(s.store, event({ userId: 'y' }));
    s.reset();
    const r = await stitch(s.store, event({ anonymousId: 'x', userId: 'y' }));
    expect(r.merged).toHaveLength(1);
    // One transaction (survivor, loser, merge record) and the event; reads as on the hot path.
    expect(s.log.calls).toEqual(['lookupIdentities', 'getProfiles', 'mergeProfiles', 'putEvent']);
    expect(s.log.items).toBe(4);
  });
});
