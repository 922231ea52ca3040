/**
 * The storage snapshot of the single table (see `keys.ts` for the item shapes): one paged,
 * strongly consistent Scan, each item decoded into what the invariant checker looks at.
 * Reads the whole table: for `npx scherp check` and tests, never for request paths.
 */
import { ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { StorageScanner } from '../../app/ports';
import type { SnapshotEvent, SnapshotIdentity, SnapshotItem, SnapshotRoot, StorageSnapshot } from '../../core/invariants';
import { decodeComputed } from './computed-store';
import { decodeEvent, isPacked, profileIdOf, unpackJson } from './event-codec';
import {
  AUDIENCE_COUNT_SK_PREFIX,
  AUDIENCE_PK_PREFIX,
  EVENT_SK_PREFIX,
  FOREIGN_PK_PREFIX,
  keys,
  MEMBERS_INDEX_PK,
  MEMBERS_INDEX_SK,
  MEMBERSHIP_SK_PREFIX,
  PART_SK,
  PROFILE_PK_PREFIX,
  TTL_ATTRIBUTE,
} from './keys';
import { shardOf } from '../../core/audiences';

const IDENTITY_PK_PREFIX = 'ID#';
const ROOT_SK = keys.profile('x').sk;

/** Numbers as JavaScript numbers when exact, else as their text (the checker compares, never computes). */
const exactNumber = (text: string): number | string => {
  const n = Number(text);
  return Math.abs(n) <= Number.MAX_SAFE_INTEGER ? n : text;
};

function strings(v: unknown, out: string[]): void {
  if (typeof v === 'string') {
    out.push(v);
    // Attributes kept as JSON text (a root's traits `tr`, records' `rec`, `anomaly`): their values too.
    if (v.startsWith('{') || v.startsWith('[')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(v);
      } catch {
        return; // Not JSON.
      }
      strings(parsed, out);
    }
  } else if (v instanceof Uint8Array && isPacked(v)) {
    // Packed JSON (a root's traits `tz`): its values too.
    try {
      strings(unpackJson(v), out);
    } catch {
      // Not packed JSON after all.
    }
  } else if (typeof v === 'number') out.push(String(v));
  else if (Array.isArray(v) || v instanceof Set) for (const x of v) strings(x, out);
  else if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      strings(x, out);
    }
  }
}

export class DynamoStorageScanner implements StorageScanner {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async snapshot(): Promise<StorageSnapshot> {
    const identities: SnapshotIdentity[] = [];
    const roots: SnapshotRoot[] = [];
    const events: SnapshotEvent[] = [];
    const computed = new Map<string, Readonly<Record<string, unknown>>>();
    const items: SnapshotItem[] = [];
    const members: { audienceId: string; profileId: string }[] = [];
    const audienceParts = new Map<string, string[]>();
    const counts = new Map<string, number>();
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: start, ConsistentRead: true }));
      for (const raw of page.Items ?? []) {
        const it = unmarshall(raw, { wrapNumbers: exactNumber }) as Record<string, unknown>;
        const pk = String(it.pk);
        const sk = String(it.sk);
        const profileId = pk.startsWith(PROFILE_PK_PREFIX) ? profileIdOf(pk) : undefined;
        const texts: string[] = [];
        strings(it, texts);
        if (pk.startsWith(IDENTITY_PK_PREFIX) && sk === 'ID') {
          const [type, ...rest] = pk.slice(IDENTITY_PK_PREFIX.length).split('#');
          identities.push({ key: `${type}:${rest.join('#')}`, profileId: String(it.pid) });
        } else if (profileId !== undefined && sk === ROOT_SK) {
          roots.push({
            id: String(it.id ?? profileId),
            identifiers: (it.ids as string[] | undefined) ?? [],
            ...(it.mergedInto ? { mergedInto: String(it.mergedInto) } : {}),
          });
        } else if (profileId !== undefined && sk.startsWith(EVENT_SK_PREFIX) && it.d !== undefined) {
          const event = decodeEvent(it as { d: Uint8Array });
          events.push({ profileId, event, ...(typeof it[TTL_ATTRIBUTE] === 'number' ? { expiresAt: it[TTL_ATTRIBUTE] } : {}) });
          strings(event, texts);
        } else if (profileId !== undefined && sk === PART_SK.computed) {
          computed.set(profileId, decodeComputed(it).state.values);
        } else if (profileId !== undefined && sk.startsWith(MEMBERSHIP_SK_PREFIX) && it.at !== undefined) {
          const audienceId = sk.slice(MEMBERSHIP_SK_PREFIX.length);
          audienceParts.set(profileId, [...(audienceParts.get(profileId) ?? []), audienceId]);
          // What the `members` index lists it under (an index holds what its keys say).
          if (it[MEMBERS_INDEX_PK] === keys.audienceMembers(audienceId, shardOf(profileId)) && it[MEMBERS_INDEX_SK] === profileId)
            members.push({ audienceId, profileId });
        } else if (pk.startsWith(AUDIENCE_PK_PREFIX) && sk.startsWith(AUDIENCE_COUNT_SK_PREFIX)) {
          const audienceId = pk.slice(AUDIENCE_PK_PREFIX.length);
          counts.set(audienceId, (counts.get(audienceId) ?? 0) + Number(it.n ?? 0));
        }
        // Roots are the partition's anchor; every other item of a partition must have one.
        const indexes = pk.startsWith(FOREIGN_PK_PREFIX) ? pk.slice(FOREIGN_PK_PREFIX.length) : undefined;
        items.push({
          pk,
          sk,
          ...(profileId !== undefined && sk !== ROOT_SK ? { profileId } : {}),
          strings: texts,
          ...(indexes !== undefined ? { indexes } : {}),
        });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return { identities, roots, events, computed, items, audiences: { members, parts: audienceParts, counts } };
  }
}
