/**
 * The stored form of a timeline event: a few plain attributes for queries and stream filters,
 * and the whole event deflated into one binary attribute, which keeps a typical event with a
 * full Segment `context` under 1 KB (one write unit).
 *
 * `d` is deflated with a preset dictionary ({@link EVENT_DICTIONARY}: the field names and common
 * values of the Segment spec, analytics.js and RudderStack's JavaScript SDK), behind a format
 * byte no raw deflate stream starts with (`0x07`: a final block of the reserved type 3), so items
 * written before it (plain raw deflate) still decode. The dictionary is part of the stored format:
 * never change it; a new one takes another format byte.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { timelineTime, type ScherpEvent } from '../../core/events';
import { keys, TTL_ATTRIBUTE } from './keys';

export interface EventItem {
  readonly pk: string;
  readonly sk: string;
  readonly mid: string;
  readonly type: string;
  readonly name?: string;
  readonly src: string;
  readonly ts: string;
  readonly d: Uint8Array;
  readonly [TTL_ATTRIBUTE]: number;
}

export function encodeEvent(profileId: string, e: ScherpEvent, retentionDays: number): EventItem {
  const ttl = Math.floor(Date.parse(e.timestamp) / 1000) + retentionDays * 86400;
  return {
    ...keys.event(profileId, timelineTime(e), e.messageId),
    mid: e.messageId,
    type: e.type,
    name: e.event ?? e.name,
    src: e.sourceId,
    ts: e.timestamp,
    d: eventData(e),
    [TTL_ATTRIBUTE]: ttl,
  };
}

/**
 * What events usually hold, most frequent last (deflate reaches back 32 KB; nearer is cheaper):
 * the preset dictionary of format {@link DICTIONARY_V1}. Fixed forever (see above).
 */
export const EVENT_DICTIONARY = Buffer.from(
  [
    '"channel":"web","rudderId":"","request_ip":"","initial_referrer":"$direct","initial_referring_domain":"$direct","tab_url":"https://',
    '"app":{"name":"RudderLabs JavaScript SDK","namespace":"com.rudderlabs.javascript","version":"3.',
    '"os":{"name":"","version":""},"sessionId":,"sessionStart":true,"innerWidth":,"innerHeight":',
    '"integrations":{"All":true},"_metadata":{"bundled":["Segment.io"],"unbundled":[],"bundledIds":[]},',
    '"writeKey":"","traits":{"email":"","firstName":"","lastName":"","name":"","phone":"","plan":"","createdAt":"',
    '"address":{"city":"","country":"","postalCode":"","state":"","street":""},"company":{"name":""},',
    '"properties":{"order_id":"","checkout_id":"","total":,"revenue":,"shipping":,"tax":,"discount":,"coupon":"","currency":"EUR","currency":"USD",',
    '"products":[{"product_id":"","sku":"","name":"","category":"","brand":"","variant":"","price":,"quantity":1,"position":,"url":"https://","image_url":"https://"}],',
    '"os":{"name":"iOS","version":"17.0"},"device":{"id":"","advertisingId":"","manufacturer":"Apple","model":"iPhone","type":"ios","name":""},',
    '"app":{"name":"","version":"","build":"","namespace":""},"network":{"wifi":true,"cellular":false,"carrier":""},',
    '"campaign":{"name":"","source":"google","medium":"cpc","term":"","content":""},"referrer":{"type":"","name":"","url":"","link":""},',
    '"groupId":"","previousId":"","category":"","name":"","event":"Product Viewed","event":"Order Completed","event":"Checkout Started",',
    '"event":"Product Added","event":"Signed Up","event":"Page Viewed","event":"Products Searched","event":"Cart Viewed",',
    '"userAgent":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",',
    '"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",',
    '"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",',
    '"userAgentData":{"brands":[{"brand":"Not_A Brand","version":"8"},{"brand":"Chromium","version":"120"},{"brand":"Google Chrome","version":"120"}],"mobile":false,"platform":"Windows"},',
    '"library":{"name":"analytics.js","version":"npm:next-1.',
    '"locale":"en-US","locale":"nl-NL","timezone":"Europe/Amsterdam","timezone":"America/New_York",',
    '"screen":{"width":1920,"height":1080,"density":1},"ip":"","instanceId":"',
    '"page":{"path":"/","referrer":"https://www.google.com/","search":"","title":"","url":"https://',
    '{"type":"identify","type":"page","type":"screen","type":"group","type":"alias","type":"track",',
    '"anonymousId":"","userId":"","messageId":"ajs-next-","originalTimestamp":"20","sentAt":"20","receivedAt":"20","timestamp":"20',
    '"sourceId":"","sourceName":"","party":"first","trust":"trusted","context":{',
  ].join(''),
);

/** The first byte of `d` in the dictionary format: no raw deflate stream starts with it. */
const DICTIONARY_V1 = 0x07;

/** A JSON value deflated with the dictionary, behind its format byte (events' `d`, roots' traits `tz`). */
export function packJson(value: unknown): Uint8Array {
  const body = deflateRawSync(Buffer.from(JSON.stringify(value)), { dictionary: EVENT_DICTIONARY });
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = DICTIONARY_V1;
  body.copy(out, 1);
  return out;
}

/** Whether bytes are in the dictionary format ({@link packJson}). */
export const isPacked = (bytes: Uint8Array): boolean => bytes[0] === DICTIONARY_V1;

/** {@link packJson}'s value back; bytes without its format byte are plain raw deflate (items from before it). */
export function unpackJson(data: Uint8Array | string): unknown {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'base64') : Buffer.from(data);
  const text = isPacked(bytes) ? inflateRawSync(bytes.subarray(1), { dictionary: EVENT_DICTIONARY }) : inflateRawSync(bytes);
  return JSON.parse(text.toString('utf8'));
}

/** The event deflated, as `d` holds it. */
export function eventData(e: ScherpEvent): Uint8Array {
  return packJson(e);
}

/** Decodes `d`: bytes from the SDK, or base64 text as Lambda's stream records carry binary; either format. */
export function decodeEvent(item: { d: Uint8Array | string }): ScherpEvent {
  return unpackJson(item.d) as ScherpEvent;
}

/** The profile id from a timeline item's partition key `P#<id>`. */
export function profileIdOf(pk: string): string {
  return pk.slice(2);
}
