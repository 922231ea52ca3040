/**
 * What stitch asks of the store, counted: the plain hot path reads in two batches and writes
 * one item; a merge writes the same items whatever the history of the profiles it merges.
 */
import { stitch } from '../../app/stitch';
import { eventFactory } from '../helpers/events';
import { MemoryProfileStore } from '../helpers/memory-store';

class CountingStore extends MemoryProfileStore {
  calls: string[] = [];
  items = 0;
  override async getIdentityOwners(...a: Parameters<MemoryProfileStore['getIdentityOwners']>) {
    this.calls.push('getIdentityOwners');
    return super.getIdentityOwners(...a);
  }
  override async getProfiles(...a: Parameters<MemoryProfileStore['getProfiles']>) {
    this.calls.push('getProfiles');
    return super.getProfiles(...a);
  }
  override async saveProfile(...a: Parameters<MemoryProfileStore['saveProfile']>) {
    this.calls.push('saveProfile');
    this.items++;
    return super.saveProfile(...a);
  }
  override async mergeProfiles(...a: Parameters<MemoryProfileStore['mergeProfiles']>) {
    this.calls.push('mergeProfiles');
    this.items += 2 + a[2].length;
    return super.mergeProfiles(...a);
  }
  override async claimIdentity(...a: Parameters<MemoryProfileStore['claimIdentity']>) {
    this.calls.push('claimIdentity');
    this.items++;
    return super.claimIdentity(...a);
  }
  override async putEvent(...a: Parameters<MemoryProfileStore['putEvent']>) {
    this.calls.push('putEvent');
    this.items++;
    return super.putEvent(...a);
  }
  reset() {
    this.calls = [];
    this.items = 0;
  }
}

const event = eventFactory();

describe('stitch cost', () => {
  it('a plain event on a known profile: two batched reads, one write, no root write', async () => {
    const s = new CountingStore();
    await stitch(s, event({ anonymousId: 'a', userId: 'u' }));
    s.reset();
    await stitch(s, event({ anonymousId: 'a', userId: 'u' }));
    expect(s.calls).toEqual(['getIdentityOwners', 'getProfiles', 'putEvent']);
  });

  it.each([10, 1000])('a merge of profiles with %i past events writes the same items', async (history) => {
    const s = new CountingStore();
    for (let i = 0; i < history; i++) await stitch(s, event({ anonymousId: 'x' }));
    for (let i = 0; i < history; i++) await stitch(s, event({ userId: 'y' }));
    s.reset();
    const r = await stitch(s, event({ anonymousId: 'x', userId: 'y' }));
    expect(r.merged).toHaveLength(1);
    // One transaction (survivor, loser, merge record) and the event; reads as on the hot path.
    expect(s.calls).toEqual(['getIdentityOwners', 'getProfiles', 'mergeProfiles', 'putEvent']);
    expect(s.items).toBe(4);
  });
});
