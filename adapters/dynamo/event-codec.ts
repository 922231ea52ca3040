/**
 * The stored form of a timeline event: a few plain attributes for queries and stream filters,
 * and the whole event deflated into one binary attribute, which keeps a typical event with a
 * full Segment `context` under 1 KB (one write unit).
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

/** The event deflated, as `d` holds it. */
export function eventData(e: ScherpEvent): Uint8Array {
  return deflateRawSync(Buffer.from(JSON.stringify(e)));
}

/** Decodes `d`: bytes from the SDK, or base64 text as Lambda's stream records carry binary. */
export function decodeEvent(item: { d: Uint8Array | string }): ScherpEvent {
  const bytes = typeof item.d === 'string' ? Buffer.from(item.d, 'base64') : Buffer.from(item.d);
  return JSON.parse(inflateRawSync(bytes).toString('utf8')) as ScherpEvent;
}

/** The profile id from a timeline item's partition key `P#<id>`. */
export function profileIdOf(pk: string): string {
  return pk.slice(2);
}
