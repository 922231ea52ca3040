/**
 * The timeline item's event encoding: the dictionary format round-trips any event, items written
 * in the earlier plain format still decode, and a typical web event with a full analytics.js
 * `context` stays under 1 KB (one write unit).
 */
import fc from 'fast-check';
import { deflateRawSync } from 'node:zlib';
import { estimateBytes } from '../../adapters/dynamo/client';
import { decodeEvent, encodeEvent, eventData, packJson } from '../../adapters/dynamo/event-codec';
import { profileFromItem } from '../../adapters/dynamo/profile-store';
import { generateDataSet } from '../../bench/dataset';
import type { ScherpEvent } from '../../core/events';

const base = (extra: Record<string, unknown>): ScherpEvent =>
  ({
    type: 'track',
    event: 'Order Completed',
    messageId: 'm-1',
    sourceId: 'src_1',
    timestamp: '2026-06-01T12:00:00.000Z',
    receivedAt: '2026-06-01T12:00:01.000Z',
    ...extra,
  }) as ScherpEvent;

describe('event codec', () => {
  it('round-trips any JSON event (unicode, deep nesting, prototype names), as bytes and as the base64 a stream record carries', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 6 })), fc.string(), (properties, userId) => {
        const e = base({ properties, userId });
        const item = encodeEvent('p_1', e, 400);
        expect(decodeEvent(item)).toEqual(JSON.parse(JSON.stringify(e)));
        expect(decodeEvent({ d: Buffer.from(item.d).toString('base64') })).toEqual(JSON.parse(JSON.stringify(e)));
      }),
    );
  });

  it('decodes items written in the plain format before the dictionary (raw deflate, no format byte)', () => {
    const e = base({ properties: { revenue: 12.5, toString: 'x' }, userId: 'u-1' });
    const old = { d: deflateRawSync(Buffer.from(JSON.stringify(e))) };
    expect(decodeEvent(old)).toEqual(e);
    expect(Buffer.from(eventData(e))[0]).toBe(0x07);
  });

  it('keeps every event of the web-shop data set (full analytics.js context, 1,085 bytes on average) under 1 KB as an item', () => {
    const ds = generateDataSet({ users: 20, seed: 7 });
    const sizes = ds.events.map((g) =>
      estimateBytes(
        encodeEvent(
          'p_0123456789abcdef0123456789abcdef',
          base({ ...g.body, receivedAt: '2026-06-01T12:00:01.000Z', sourceId: 'src_0123456789abcdef' }),
          400,
        ),
      ),
    );
    expect(Math.max(...sizes)).toBeLessThan(1024);
    // Without the dictionary a tenth of them took two write units (measured: 115 of 1,276 at seed 42).
    const plain = ds.events.map((g) => {
      const e = base({ ...g.body, receivedAt: '2026-06-01T12:00:01.000Z', sourceId: 'src_0123456789abcdef' });
      return estimateBytes({
        ...encodeEvent('p_0123456789abcdef0123456789abcdef', e, 400),
        d: deflateRawSync(Buffer.from(JSON.stringify(e))),
      });
    });
    expect(plain.reduce((a, b) => a + b, 0)).toBeGreaterThan(sizes.reduce((a, b) => a + b, 0) * 1.3);
  });

  it('a profile root keeps its traits packed (`tz`), reads roots with the older JSON text (`tr`), and stays one write unit with typical traits', () => {
    const traits = Object.fromEntries(
      Object.entries({
        email: 'ada.lovelace@example.com',
        firstName: 'Ada',
        lastName: 'Lovelace',
        phone: '+31698765432',
        plan: 'gold',
        createdAt: '2026-05-01T10:00:00.000Z',
        address: { city: 'Amsterdam', country: 'NL', postalCode: '1011 AB', street: 'Damrak 1' },
        company: { name: 'Analytical Engines BV' },
      }).map(([k, value]) => [k, { value, at: '2026-06-01T12:00:00.000Z', src: 'src_0123456789abcdef' }]),
    );
    const root = {
      pk: 'P#p_0123456789abcdef0123456789abcdef',
      sk: 'PROFILE',
      id: 'p_0123456789abcdef0123456789abcdef',
      ids: ['user_id:u-123456', 'email:ada.lovelace@example.com', 'anonymous_id:2b9261a9-a1ee-4288-8125-ff32ee678554'],
      createdAt: '2026-06-01T12:00:00.000Z',
      updatedAt: '2026-06-01T12:00:00.000Z',
      ver: 3,
    };
    const asText = { ...root, tr: JSON.stringify(traits) };
    expect(estimateBytes(asText)).toBeGreaterThan(1024);
    expect({ ...profileFromItem(asText).profile.traits }).toEqual(traits);
    const packed = { ...root, tz: Buffer.from(packJson(traits)) };
    expect(estimateBytes(packed)).toBeLessThan(1024);
    expect({ ...profileFromItem(packed).profile.traits }).toEqual(traits);
  });
});
