/**
 * Audience membership you can use: a member item per (audience, profile), an exact per-shard
 * count and hourly entered/exited buckets (`core/audiences.ts`), all written in the same
 * transaction as the profile's `PROFILE#AUD` part, and only when membership changes.
 *
 * The `PROFILE#AUD` version is the serialisation point: a transaction applies the difference
 * between the state it read and the new one, conditional on that version, so counters follow
 * exactly the member items (a conflict writes nothing; the caller re-reads). More changes than
 * fit one transaction go in several, each moving `PROFILE#AUD` one version on through a
 * consistent intermediate state.
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
import { dict } from '../../core/dict';
import { minuteOf } from '../../core/expiry';
import { ValidationError } from '../../core/errors';
import type { AudienceBatchChange, MemberPage, MembershipReader } from '../../app/ports';
import { isConditionOrConflict } from './conditions';
import { keys, TTL_ATTRIBUTE } from './keys';

/** Changes per transaction: the part, and a member item, a count, an hour bucket and a due item per change (≤ 100 items). */
export const MAX_CHANGES_PER_TRANSACTION = 24;

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

function changeItems(tableName: string, profileId: string, c: MembershipChange, at: string, enteredAt: string): TransactItem[] {
  const shard = shardOf(profileId);
  const member = keys.audienceMember(c.audienceId, shard, profileId);
  return [
    c.entered
      ? { Put: { TableName: tableName, Item: { ...member, pid: profileId, at: enteredAt } } }
      : { Delete: { TableName: tableName, Key: member } },
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
 * Writes a profile's membership `next` (audience id → entered at) over `previous` (as read at
 * `expectedVersion`), with its member items and counters; false on a version conflict.
 */
export async function saveMembership(
  doc: DynamoDBDocumentClient,
  tableName: string,
  profileId: string,
  previous: Readonly<Record<string, string>>,
  next: Readonly<Record<string, string>>,
  expectedVersion: number,
  at: string,
  dueAt: Readonly<Record<string, string>> = {},
): Promise<boolean> {
  const changes = membershipChanges(previous, next);
  const state = dict(previous);
  let version = expectedVersion;
  // No change: the part alone (so a caller that saves an unchanged state still moves the version on).
  const chunks: MembershipChange[][] = changes.length === 0 ? [[]] : [];
  for (let i = 0; i < changes.length; i += MAX_CHANGES_PER_TRANSACTION) chunks.push(changes.slice(i, i + MAX_CHANGES_PER_TRANSACTION));
  for (const chunk of chunks) {
    const items: TransactItem[] = [];
    for (const c of chunk) {
      if (c.entered) state[c.audienceId] = next[c.audienceId]!;
      else delete state[c.audienceId];
      items.push(...changeItems(tableName, profileId, c, at, next[c.audienceId] ?? at));
      const due = c.entered ? dueAt[c.audienceId] : undefined;
      if (due) items.push(dueItem(tableName, c.audienceId, profileId, due));
    }
    items.unshift({
      Put: {
        TableName: tableName,
        Item: { ...keys.audiences(profileId), m: { ...state }, ver: version + 1 },
        ...(version === 0
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: 'ver = :v', ExpressionAttributeValues: { ':v': version } }),
      },
    });
    try {
      await doc.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      if (isConditionOrConflict(err)) return false;
      throw err;
    }
    version++;
  }
  return true;
}

/**
 * Writes the membership changes of several profiles (one audience change each, as a backfill
 * makes them) in one transaction: each profile's part (conditional on its version), its member
 * and due items, and the count and hour-bucket deltas summed into counter shard `countShard`
 * (the count is the sum of the shards, so any shard will do; a worker per shard keeps concurrent
 * batches apart). All or nothing: false when any profile's version moved on (the caller writes
 * those profiles one by one).
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
    const member = keys.audienceMember(c.audienceId, shardOf(c.profileId), c.profileId);
    const shard = countShard;
    items.push({
      Put: {
        TableName: tableName,
        Item: { ...keys.audiences(c.profileId), m: { ...c.next }, ver: c.expectedVersion + 1 },
        ...(c.expectedVersion === 0
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: 'ver = :v', ExpressionAttributeValues: { ':v': c.expectedVersion } }),
      },
    });
    items.push(
      c.entered
        ? { Put: { TableName: tableName, Item: { ...member, pid: c.profileId, at: c.next[c.audienceId] ?? at } } }
        : { Delete: { TableName: tableName, Key: member } },
    );
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
      this.queryAll({ ':pk': pk, ':p': 'N#' }, 'begins_with(sk, :p)'),
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
      const res: QueryCommandOutput = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.audienceMembers(audienceId, c.s) },
          ExclusiveStartKey: c.k,
          Limit: limit - members.length,
        }),
      );
      for (const it of res.Items ?? []) members.push({ profileId: String(it.pid), enteredAt: String(it.at) });
      c = res.LastEvaluatedKey ? { s: c.s, k: res.LastEvaluatedKey } : c.s + 1 < MEMBER_SHARDS ? { s: c.s + 1 } : undefined;
    }
    return { members, ...(c ? { cursor: encodeCursor(c) } : {}) };
  }

  async listShard(audienceId: string, shard: number, limit: number, cursor?: string): Promise<MemberPage> {
    const res: QueryCommandOutput = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.audienceMembers(audienceId, shard) },
        ...(cursor ? { ExclusiveStartKey: decodeCursor(cursor).k } : {}),
        Limit: limit,
      }),
    );
    const members = (res.Items ?? []).map((it) => ({ profileId: String(it.pid), enteredAt: String(it.at) }));
    return { members, ...(res.LastEvaluatedKey ? { cursor: encodeCursor({ s: shard, k: res.LastEvaluatedKey }) } : {}) };
  }
}
