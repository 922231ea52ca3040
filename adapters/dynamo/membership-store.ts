/**
 * Audience membership you can use: one item per (profile, audience) in the profile's partition
 * (`PROFILE#AUD#<audienceId>`, so the parts Query brings a profile's memberships along), listed
 * per audience through the sparse `members` index, an exact per-shard count and hourly
 * entered/exited buckets (`core/audiences.ts`), all written in one transaction, and only when
 * membership changes.
 *
 * Each membership item is its own serialisation point: entering writes it only if the profile
 * is not a member, leaving only if it is, so a counter moves exactly when its item does (a
 * conflict writes nothing; the caller re-reads). More changes than fit one transaction go in
 * several, each consistent on its own.
 */
import { QueryCommand, type QueryCommandOutput, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AudienceCounters } from '../../core/audiences';
import {
  HOUR_BUCKET_TTL_SECONDS,
  hourOf,
  last24Hours,
  MEMBER_SHARDS,
  TRANSACTION_ITEMS,
  type MembershipChange,
  membershipChanges,
  shardOf,
} from '../../core/audiences';
import { has } from '../../core/dict';
import { minuteOf } from '../../core/expiry';
import { ValidationError } from '../../core/errors';
import type { AudienceBatchChange, MemberPage, MembershipReader } from '../../app/ports';
import { isConditionOrConflict } from './conditions';
import { AUDIENCE_COUNT_SK_PREFIX, keys, MEMBERS_INDEX, MEMBERS_INDEX_PK, MEMBERS_INDEX_SK, TTL_ATTRIBUTE } from './keys';

/** Changes per transaction: a membership item, a count, an hour bucket and a due item per change (≤ 100 items). */
export const MAX_CHANGES_PER_TRANSACTION = 25;

/** Due items outlive their time by this much at most (the sweeper deletes them when it gets there). */
const DUE_TTL_SECONDS = 2 * 86_400;

/** The item that has a membership re-checked at `dueAt` (time-based exits). */
export function dueItem(tableName: string, audienceId: string, profileId: string, dueAt: string): TransactItem {
  return {
    Put: {
      TableName: tableName,
      Item: {
        ...keys.due(minuteOf(Date.parse(dueAt)), audienceId, profileId),
        aud: audienceId,
        pid: profileId,
        at: dueAt,
        [TTL_ATTRIBUTE]: Math.floor(Date.parse(dueAt) / 1000) + DUE_TTL_SECONDS,
      },
    },
  };
}

type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

/** How long the item of a left membership stays (it is only "not a member"; DynamoDB's TTL removes it). */
const LEFT_TTL_SECONDS = 86_400;

/**
 * Entering: the membership item (`at`, and the `members` index keys), put only if the profile is
 * not a member as read. Leaving: the item put again without them (out of the index, removed by
 * TTL a day later; a put, not a delete, so no function needs to delete profile items), only if
 * the profile is a member. Either is refused when membership moved on since it was read.
 */
export function membershipItem(tableName: string, profileId: string, audienceId: string, entered: boolean, when: string): TransactItem {
  const key = keys.membership(profileId, audienceId);
  return {
    Put: {
      TableName: tableName,
      Item: entered
        ? { ...key, at: when, ...keys.memberIndex(audienceId, shardOf(profileId), profileId) }
        : { ...key, left: when, [TTL_ATTRIBUTE]: Math.floor(Date.parse(when) / 1000) + LEFT_TTL_SECONDS },
      ConditionExpression: entered ? 'attribute_not_exists(#at)' : 'attribute_exists(#at)',
      ExpressionAttributeNames: { '#at': 'at' },
    },
  };
}

function changeItems(tableName: string, profileId: string, c: MembershipChange, at: string, enteredAt: string): TransactItem[] {
  const shard = shardOf(profileId);
  return [
    membershipItem(tableName, profileId, c.audienceId, c.entered, c.entered ? enteredAt : at),
    {
      Update: {
        TableName: tableName,
        Key: keys.audienceCount(c.audienceId, shard),
        UpdateExpression: 'ADD n :d',
        ExpressionAttributeValues: { ':d': c.entered ? 1 : -1 },
      },
    },
    {
      Update: {
        TableName: tableName,
        Key: keys.audienceHour(c.audienceId, hourOf(at), shard),
        UpdateExpression: `ADD ${c.entered ? 'e' : 'x'} :one SET #ttl = :ttl`,
        ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':one': 1, ':ttl': Math.floor(Date.parse(at) / 1000) + HOUR_BUCKET_TTL_SECONDS },
      },
    },
  ];
}

/**
 * Writes the difference between a profile's membership `previous` (as read) and `next`
 * (audience id → entered at): its membership items and counters; false when membership moved
 * on since it was read (nothing of that transaction is written). No difference: no write.
 */
export async function saveMembership(
  doc: DynamoDBDocumentClient,
  tableName: string,
  profileId: string,
  previous: Readonly<Record<string, string>>,
  next: Readonly<Record<string, string>>,
  at: string,
  dueAt: Readonly<Record<string, string>> = {},
): Promise<boolean> {
  const changes = membershipChanges(previous, next);
  for (let i = 0; i < changes.length; i += MAX_CHANGES_PER_TRANSACTION) {
    const items: TransactItem[] = [];
    for (const c of changes.slice(i, i + MAX_CHANGES_PER_TRANSACTION)) {
      items.push(...changeItems(tableName, profileId, c, at, next[c.audienceId] ?? at));
      const due = c.entered && has(dueAt, c.audienceId) ? dueAt[c.audienceId] : undefined;
      if (due) items.push(dueItem(tableName, c.audienceId, profileId, due));
    }
    try {
      await doc.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      if (isConditionOrConflict(err)) return false;
      throw err;
    }
  }
  return true;
}

/**
 * Writes the membership changes of several profiles (one audience change each, as a backfill
 * makes them) in one transaction: each profile's membership item (conditional on membership as
 * read), its due item, and the count and hour-bucket deltas summed into counter shard
 * `countShard` (the count is the sum of the shards, so any shard will do; a worker per shard
 * keeps concurrent batches apart). All or nothing: false when any profile's membership moved on
 * (the caller writes those profiles one by one).
 */
export async function saveMembershipBatch(
  doc: DynamoDBDocumentClient,
  tableName: string,
  changes: readonly AudienceBatchChange[],
  at: string,
  countShard: number,
): Promise<boolean> {
  if (changes.length === 0) return true;
  if (!Number.isInteger(countShard) || countShard < 0 || countShard >= MEMBER_SHARDS) throw new Error(`no counter shard ${countShard}`);
  const items: TransactItem[] = [];
  const counts = new Map<string, { audienceId: string; shard: number; n: number; e: number; x: number }>();
  for (const c of changes) {
    const shard = countShard;
    items.push(membershipItem(tableName, c.profileId, c.audienceId, c.entered, c.entered ? (c.next[c.audienceId] ?? at) : at));
    if (c.entered && c.dueAt) items.push(dueItem(tableName, c.audienceId, c.profileId, c.dueAt));
    const k = `${c.audienceId}\u0000${shard}`;
    const sum = counts.get(k) ?? { audienceId: c.audienceId, shard, n: 0, e: 0, x: 0 };
    sum.n += c.entered ? 1 : -1;
    if (c.entered) sum.e++;
    else sum.x++;
    counts.set(k, sum);
  }
  const ttl = Math.floor(Date.parse(at) / 1000) + HOUR_BUCKET_TTL_SECONDS;
  for (const c of counts.values()) {
    if (c.n !== 0)
      items.push({
        Update: {
          TableName: tableName,
          Key: keys.audienceCount(c.audienceId, c.shard),
          UpdateExpression: 'ADD n :d',
          ExpressionAttributeValues: { ':d': c.n },
        },
      });
    items.push({
      Update: {
        TableName: tableName,
        Key: keys.audienceHour(c.audienceId, hourOf(at), c.shard),
        UpdateExpression: 'ADD e :e, x :x SET #ttl = :ttl',
        ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':e': c.e, ':x': c.x, ':ttl': ttl },
      },
    });
  }
  if (items.length > TRANSACTION_ITEMS)
    throw new Error(`${items.length} items do not fit one transaction (${TRANSACTION_ITEMS}): see membershipBatches`);
  try {
    await doc.send(new TransactWriteCommand({ TransactItems: items }));
    return true;
  } catch (err) {
    if (isConditionOrConflict(err)) return false;
    throw err;
  }
}

interface Cursor {
  readonly s: number;
  readonly k?: Record<string, unknown>;
}

function decodeCursor(cursor: string | undefined): Cursor {
  if (!cursor) return { s: 0 };
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Cursor;
    if (Number.isInteger(c.s) && c.s >= 0 && c.s < MEMBER_SHARDS && (c.k === undefined || typeof c.k === 'object')) return c;
  } catch {
    // fall through
  }
  throw new ValidationError('cursor is not one this API returned', [{ path: 'cursor', message: 'must be a cursor from a previous page' }]);
}

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');

export class DynamoMembershipStore implements MembershipReader {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async counters(audienceId: string, nowIso: string): Promise<AudienceCounters> {
    const pk = keys.audienceCounters(audienceId);
    const hours = last24Hours(nowIso);
    const [counts, buckets] = await Promise.all([
      this.queryAll({ ':pk': pk, ':p': AUDIENCE_COUNT_SK_PREFIX }, 'begins_with(sk, :p)'),
      this.queryAll({ ':pk': pk, ':from': `H#${hours[0]}`, ':to': `H#${hours[hours.length - 1]}#~` }, 'sk BETWEEN :from AND :to'),
    ]);
    const shardCounts = counts.map((it) => Number(it.n ?? 0));
    const byHour = new Map<string, { hour: string; entered: number; exited: number }>();
    for (const it of buckets) {
      const hour = String(it.sk).slice(2, 15);
      const h = byHour.get(hour) ?? { hour, entered: 0, exited: 0 };
      h.entered += Number(it.e ?? 0);
      h.exited += Number(it.x ?? 0);
      byHour.set(hour, h);
    }
    return { shardCounts, hours: [...byHour.values()] };
  }

  private async queryAll(values: Record<string, unknown>, range: string): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: `pk = :pk AND ${range}`,
          ExpressionAttributeValues: values,
          ExclusiveStartKey: start,
        }),
      );
      out.push(...(res.Items ?? []));
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async listMembers(audienceId: string, limit: number, cursor?: string): Promise<MemberPage> {
    let c: Cursor | undefined = decodeCursor(cursor);
    const members: { profileId: string; enteredAt: string }[] = [];
    while (c && members.length < limit) {
      const res = await this.queryShard(audienceId, c.s, limit - members.length, c.k);
      for (const it of res.Items ?? []) members.push(memberOf(it));
      c = res.LastEvaluatedKey ? { s: c.s, k: res.LastEvaluatedKey } : c.s + 1 < MEMBER_SHARDS ? { s: c.s + 1 } : undefined;
    }
    return { members, ...(c ? { cursor: encodeCursor(c) } : {}) };
  }

  async listShard(audienceId: string, shard: number, limit: number, cursor?: string): Promise<MemberPage> {
    const res = await this.queryShard(audienceId, shard, limit, cursor ? decodeCursor(cursor).k : undefined);
    const members = (res.Items ?? []).map(memberOf);
    return { members, ...(res.LastEvaluatedKey ? { cursor: encodeCursor({ s: shard, k: res.LastEvaluatedKey }) } : {}) };
  }

  /** One shard of an audience's members, in profile-id order, from the `members` index (eventually consistent, as every index). */
  private queryShard(
    audienceId: string,
    shard: number,
    limit: number,
    start: Record<string, unknown> | undefined,
  ): Promise<QueryCommandOutput> {
    return this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: MEMBERS_INDEX,
        KeyConditionExpression: '#ipk = :pk',
        ExpressionAttributeNames: { '#ipk': MEMBERS_INDEX_PK },
        ExpressionAttributeValues: { ':pk': keys.audienceMembers(audienceId, shard) },
        ...(start ? { ExclusiveStartKey: start } : {}),
        Limit: limit,
      }),
    );
  }
}

const memberOf = (it: Record<string, unknown>) => ({ profileId: String(it[MEMBERS_INDEX_SK]), enteredAt: String(it.at) });
