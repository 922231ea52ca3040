/**
 * What stitch asks of the store, counted: the plain hot path reads in two batches and writes
 * one item; a merge writes the same items whatever the history of the profiles it merges.
 */
import { stitch, SuppressedIdentifierError } from '../../app/stitch';
import { processEvent } from '../../app/process-event';
import type { MessageLog } from '../../app/ports';
import { DEFAULT_CONFIG } from '../../core/config';
import { ingest } from '../../core/ingest';
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

/** A message log double that counts its writes (each claim is one conditional put: 1 WRU). */
function countingLog() {
  const seen = new Map<string, string>();
  const log = { claims: 0 };
  const messages: MessageLog = {
    async claim(sourceId, messageId, timestamp) {
      log.claims++;
      const k = `${sourceId}/${messageId}`;
      const first = seen.get(k);
      if (first === undefined) seen.set(k, timestamp);
      return first;
    },
  };
  return { messages, log };
}

/** What collect makes of one SDK request body received at `receivedAt` (sentAt as the SDK sets it on each attempt). */
function received(body: Record<string, unknown>, receivedAt: string) {
  const r = ingest({
    route: 'batch',
    body: { batch: [body], sentAt: receivedAt },
    sourceId: 'web',
    receivedAt: new Date(receivedAt),
    newMessageId: () => 'generated',
  });
  return r.accepted[0]!;
}

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

  it('an SDK retry with a new receivedAt and sentAt (another corrected timestamp) is stored once, without a dedupe marker', async () => {
    const s = counting();
    const m = countingLog();
    const deps = { store: s.store, messages: m.messages, identity: DEFAULT_CONFIG.identity };
    const body = { type: 'track', event: 'Product Viewed', userId: 'retry-u', messageId: 'sdk-1', timestamp: '2026-03-01T10:00:00.000Z' };
    // The first request's answer was lost; the SDK sends the same body again 2.5 s later.
    const first = received(body, '2026-03-01T10:00:01.000Z');
    const retry = received(body, '2026-03-01T10:00:03.512Z');
    expect(retry.timestamp).toBe(first.timestamp); // sentAt moved with receivedAt…
    const skewed = { ...retry, timestamp: '2026-03-01T10:00:00.040Z' }; // …but latency differs between attempts
    await processEvent(deps, first);
    s.reset();
    const again = await processEvent(deps, skewed);
    expect(again).toMatchObject({ duplicate: true, repeat: true });
    // The retry: the same reads and one conditional put of the same timeline key, refused (1 WRU).
    expect(s.log.calls).toEqual(['lookupIdentities', 'getProfiles', 'putEvent']);
    expect(m.log.claims).toBe(0);
    const timeline = await s.store.listEvents(again.profileId, 10);
    expect(timeline.map((e) => e.event.messageId)).toEqual(['sdk-1']);
    expect(timeline[0]!.event.timestamp).toBe(first.timestamp);
  });

  it('an event on a known profile writes one item: the timeline event is its own dedupe', async () => {
    const s = counting();
    const m = countingLog();
    const deps = { store: s.store, messages: m.messages, identity: DEFAULT_CONFIG.identity };
    await processEvent(
      deps,
      received({ type: 'identify', userId: 'k', messageId: 'k-0', timestamp: '2026-03-01T09:00:00.000Z' }, '2026-03-01T09:00:00.000Z'),
    );
    s.reset();
    await processEvent(
      deps,
      received(
        { type: 'track', event: 'E', userId: 'k', messageId: 'k-1', timestamp: '2026-03-01T09:01:00.000Z' },
        '2026-03-01T09:01:00.000Z',
      ),
    );
    expect(s.log.calls).toEqual(['lookupIdentities', 'getProfiles', 'putEvent']);
    expect(s.log.items + m.log.claims).toBe(1);
  });

  it('an event without a stated time (its time is the receipt time) still claims a dedupe marker, and a repeat reuses the first timestamp', async () => {
    const s = counting();
    const m = countingLog();
    const deps = { store: s.store, messages: m.messages, identity: DEFAULT_CONFIG.identity };
    const noTime = { ...event({ userId: 'nt' }), originalTimestamp: undefined };
    await processEvent(deps, noTime);
    const r = await processEvent(deps, { ...noTime, timestamp: '2026-06-01T00:00:00.000Z', receivedAt: '2026-06-01T00:00:00.000Z' });
    expect(r).toMatchObject({ duplicate: true, repeat: true });
    expect(m.log.claims).toBe(2);
    expect((await s.store.listEvents(r.profileId, 10)).map((e) => e.event.timestamp)).toEqual([noTime.timestamp]);
  });
});
