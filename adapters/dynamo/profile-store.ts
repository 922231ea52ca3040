/**
 * ProfileStore on the single DynamoDB table: identities, profile roots and the timeline.
 */
import { batchWriteAll } from './batch-write';
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import type { ScherpEvent } from '../../core/events';
import { identifierKey, type Identifier } from '../../core/identity';
import type { MergeRecord, Profile, Traits } from '../../core/profile';
import { dict } from '../../core/dict';
import type {
  ErasureStore,
  IdentityLookup,
  PartitionExport,
  ProfileReader,
  ProfileStore,
  ProfileWithParts,
  ReadOptions,
  StoredProfile,
  TimelineEntry,
} from '../../app/ports';
import { decodeParts } from './personalization-store';
import { decodeEvent, encodeEvent, profileIdOf, type EventItem } from './event-codec';
import { EVENT_SK_PREFIX, keys, PROFILE_SK_PREFIX } from './keys';
import { queryAll } from './query';
import { isConditionFailure, isConditionOrConflict } from './conditions';

export interface DynamoProfileStoreOptions {
  readonly tableName: string;
  /** Days a timeline event is kept. @default 400 */
  readonly retentionDays?: number;
  /** Strongly consistent reads for identities and profiles. @default true */
  readonly consistentRead?: boolean;
}

interface RootItem {
  pk: string;
  sk: string;
  id: string;
  ids: string[];
  tr: string;
  createdAt: string;
  updatedAt: string;
  ver: number;
  mergedInto?: string;
  mergedFrom?: string[];
}

function toItem(p: Profile, ver: number): RootItem {
  return {
    ...keys.profile(p.id),
    id: p.id,
    ids: [...p.identifiers],
    tr: JSON.stringify(p.traits),
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
    ver,
    mergedInto: p.mergedInto,
    mergedFrom: p.mergedFrom && p.mergedFrom.length > 0 ? [...p.mergedFrom] : undefined,
  };
}

/** A profile root item as stored → the profile and its version (the job scanner decodes scanned roots with it). */
export function profileFromItem(item: Record<string, unknown>): StoredProfile {
  return fromItem(item as unknown as RootItem);
}

function fromItem(i: RootItem): StoredProfile {
  const profile: Profile = {
    id: i.id,
    identifiers: i.ids ?? [],
    traits: dict(JSON.parse(i.tr ?? '{}') as Traits),
    createdAt: i.createdAt,
    updatedAt: i.updatedAt,
    ...(i.mergedInto ? { mergedInto: i.mergedInto } : {}),
    ...(i.mergedFrom ? { mergedFrom: i.mergedFrom } : {}),
  };
  return { profile, version: i.ver };
}

/** The stored form of a merge record: a few hundred bytes, one write unit. */
export interface MergeRecordItem {
  readonly pk: string;
  readonly sk: string;
  readonly at: string;
  readonly mid: string;
  readonly ets: string;
  readonly merged: string[];
  readonly ids: string[];
  readonly refused: string[];
  readonly aref?: string[];
  readonly via?: 'alias';
}

export function mergeRecordItem(r: MergeRecord): MergeRecordItem {
  return {
    ...keys.mergeRecord(r.profileId, r.eventTimestamp, r.messageId),
    at: r.at,
    mid: r.messageId,
    ets: r.eventTimestamp,
    merged: [...r.merged],
    ids: [...r.identifiers],
    refused: [...r.refused],
    ...(r.aliasRefused && r.aliasRefused.length > 0 ? { aref: [...r.aliasRefused] } : {}),
    ...(r.via ? { via: r.via } : {}),
  };
}

export function fromMergeRecordItem(i: MergeRecordItem): MergeRecord {
  return {
    profileId: profileIdOf(i.pk),
    at: i.at,
    messageId: i.mid,
    eventTimestamp: i.ets,
    merged: i.merged ?? [],
    identifiers: i.ids ?? [],
    refused: i.refused ?? [],
    ...(i.aref ? { aliasRefused: i.aref } : {}),
    ...(i.via ? { via: i.via } : {}),
  };
}

const BATCH_GET_LIMIT = 100;

/** The suppression marker key of an identifier: a SHA-256 of `type:value`, so it names nobody. */
export function suppressionKey(id: Identifier): { pk: string; sk: string } {
  return keys.suppressed(createHash('sha256').update(identifierKey(id)).digest('hex'));
}

export class DynamoProfileStore implements ProfileStore, ProfileReader, ErasureStore {
  private readonly retentionDays: number;
  private readonly consistentRead: boolean;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly opts: DynamoProfileStoreOptions,
  ) {
    this.retentionDays = opts.retentionDays ?? 400;
    this.consistentRead = opts.consistentRead ?? true;
  }

  /** BatchGet with retries of unprocessed keys. */
  private async batchGet(keyList: { pk: string; sk: string }[], opts?: ReadOptions): Promise<Record<string, unknown>[]> {
    const consistent = opts?.consistent ?? this.consistentRead;
    const out: Record<string, unknown>[] = [];
    for (let i = 0; i < keyList.length; i += BATCH_GET_LIMIT) {
      let request: { pk: string; sk: string }[] | undefined = keyList.slice(i, i + BATCH_GET_LIMIT);
      for (let attempt = 0; request && request.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        const res = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.opts.tableName]: { Keys: request, ConsistentRead: consistent } } }),
        );
        out.push(...((res.Responses?.[this.opts.tableName] ?? []) as Record<string, unknown>[]));
        request = res.UnprocessedKeys?.[this.opts.tableName]?.Keys as { pk: string; sk: string }[] | undefined;
      }
    }
    return out;
  }

  async getIdentityOwners(ids: readonly Identifier[], opts?: ReadOptions): Promise<Map<string, string>> {
    return (await this.lookupIdentities(ids, opts)).owners;
  }

  async lookupIdentities(ids: readonly Identifier[], opts?: ReadOptions & { readonly suppression?: boolean }): Promise<IdentityLookup> {
    const byPk = new Map(ids.map((id) => [keys.identity(id.type, id.value).pk, identifierKey(id)]));
    const supByPk = new Map(opts?.suppression ? ids.map((id) => [suppressionKey(id).pk, identifierKey(id)]) : []);
    const items = await this.batchGet(
      [...[...byPk.keys()].map((pk) => ({ pk, sk: 'ID' })), ...[...supByPk.keys()].map((pk) => ({ pk, sk: 'SUP' }))],
      opts,
    );
    const owners = new Map<string, string>();
    const suppressed: string[] = [];
    for (const it of items) {
      const pk = it.pk as string;
      if (byPk.has(pk)) owners.set(byPk.get(pk)!, it.pid as string);
      else if (supByPk.has(pk)) suppressed.push(supByPk.get(pk)!);
    }
    return { owners, suppressed };
  }

  async suppress(ids: readonly Identifier[]): Promise<void> {
    const at = new Date().toISOString();
    const pks = new Map(ids.map((id) => [suppressionKey(id).pk, suppressionKey(id)]));
    await batchWriteAll(
      this.doc,
      this.opts.tableName,
      [...pks.values()].map((k) => ({ PutRequest: { Item: { ...k, at } } })),
      'profile writes',
    );
  }

  async erasePartition(profileId: string): Promise<number> {
    const items = await this.queryPartition(profileId, '', ['pk', 'sk']);
    // The root last: until it is gone, a retry still finds the profile and finishes the job.
    const root = keys.profile(profileId).sk;
    const ordered = [...items.filter((i) => i.sk !== root), ...items.filter((i) => i.sk === root)];
    await batchWriteAll(
      this.doc,
      this.opts.tableName,
      ordered.map((i) => ({ DeleteRequest: { Key: { pk: i.pk, sk: i.sk } } })),
      'profile writes',
    );
    return items.length;
  }

  async eraseIdentities(ids: readonly Identifier[]): Promise<number> {
    const pks = new Set(ids.map((id) => keys.identity(id.type, id.value).pk));
    await batchWriteAll(
      this.doc,
      this.opts.tableName,
      [...pks].map((pk) => ({ DeleteRequest: { Key: { pk, sk: 'ID' } } })),
      'profile writes',
    );
    return pks.size;
  }

  async claimIdentity(id: Identifier, profileId: string, at: string): Promise<string> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.opts.tableName,
          Item: { ...keys.identity(id.type, id.value), pid: profileId, at },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return profileId;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const got = await this.doc.send(
        new GetCommand({ TableName: this.opts.tableName, Key: keys.identity(id.type, id.value), ConsistentRead: true }),
      );
      return got.Item?.pid as string;
    }
  }

  async getProfiles(profileIds: readonly string[], opts?: ReadOptions): Promise<Map<string, StoredProfile>> {
    const items = await this.batchGet(
      [...new Set(profileIds)].map((id) => keys.profile(id)),
      opts,
    );
    return new Map(items.map((i) => [(i as unknown as RootItem).id, fromItem(i as unknown as RootItem)]));
  }

  async saveProfile(profile: Profile, expectedVersion: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.opts.tableName,
          Item: toItem(profile, expectedVersion + 1),
          ...(expectedVersion === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: 'ver = :v AND attribute_not_exists(mergedInto)',
                ExpressionAttributeValues: { ':v': expectedVersion },
              }),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async createProfile(profile: Profile, first: Identifier, at: string): Promise<boolean> {
    const t = this.opts.tableName;
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: t, Item: toItem(profile, 1), ConditionExpression: 'attribute_not_exists(pk)' } },
            {
              Put: {
                TableName: t,
                Item: { ...keys.identity(first.type, first.value), pid: profile.id, at },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (isConditionOrConflict(err)) return false;
      throw err;
    }
  }

  async mergeProfiles(survivor: Profile, survivorVersion: number, losers: readonly StoredProfile[], record: MergeRecord): Promise<boolean> {
    const t = this.opts.tableName;
    const rootPut = (p: Profile, expectedVersion: number) => ({
      Put: {
        TableName: t,
        Item: toItem(p, expectedVersion + 1),
        ConditionExpression: 'ver = :v AND attribute_not_exists(mergedInto)',
        ExpressionAttributeValues: { ':v': expectedVersion },
      },
    });
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            rootPut(survivor, survivorVersion),
            ...losers.map((l) => rootPut({ ...l.profile, mergedInto: survivor.id, updatedAt: record.at }, l.version)),
            { Put: { TableName: t, Item: mergeRecordItem(record), ConditionExpression: 'attribute_not_exists(pk)' } },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (isConditionOrConflict(err)) return false;
      throw err;
    }
  }

  async putMergeRecord(record: MergeRecord): Promise<boolean> {
    return this.putIfAbsent({ ...mergeRecordItem(record) });
  }

  /** Every item of a profile partition whose sort key begins with `prefix` ('' for all). */
  private queryPartition(profileId: string, prefix: string, attributes?: readonly string[]): Promise<Record<string, unknown>[]> {
    return queryAll(this.doc, {
      TableName: this.opts.tableName,
      KeyConditionExpression: prefix ? 'pk = :pk AND begins_with(sk, :p)' : 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.profile(profileId).pk, ...(prefix ? { ':p': prefix } : {}) },
      ConsistentRead: this.consistentRead,
      ...(attributes ? { ProjectionExpression: attributes.join(', ') } : {}),
    });
  }

  async readPartition(profileId: string): Promise<PartitionExport> {
    const all = await this.queryPartition(profileId, '');
    const events = all.filter((i) => (i.sk as string).startsWith(EVENT_SK_PREFIX)).map((i) => decodeEvent(i as unknown as EventItem));
    const items = all.filter((i) => !(i.sk as string).startsWith(EVENT_SK_PREFIX)).map(({ pk: _pk, ...rest }) => rest);
    return { profileId, events, items };
  }

  async loadProfileWithParts(profileId: string): Promise<ProfileWithParts | undefined> {
    const items = await this.queryPartition(profileId, PROFILE_SK_PREFIX);
    const root = items.find((i) => i.sk === keys.profile(profileId).sk);
    if (!root) return undefined;
    return { stored: fromItem(root as unknown as RootItem), parts: decodeParts(items) };
  }

  async listEvents(profileId: string, limit: number, before?: string): Promise<TimelineEntry[]> {
    const pk = keys.profile(profileId).pk;
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.opts.tableName,
        // `BETWEEN` is inclusive: the item at `before` itself is skipped below.
        KeyConditionExpression: before === undefined ? 'pk = :pk AND begins_with(sk, :ev)' : 'pk = :pk AND sk BETWEEN :ev AND :before',
        ExpressionAttributeValues: { ':pk': pk, ':ev': EVENT_SK_PREFIX, ...(before === undefined ? {} : { ':before': before }) },
        ScanIndexForward: false,
        Limit: before === undefined ? limit : limit + 1,
      }),
    );
    return ((res.Items ?? []) as EventItem[])
      .filter((i) => i.sk !== before)
      .slice(0, limit)
      .map((i) => ({ position: i.sk, profileId, event: decodeEvent(i) }));
  }

  private async putIfAbsent(item: Record<string, unknown>): Promise<boolean> {
    try {
      await this.doc.send(new PutCommand({ TableName: this.opts.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async putEvent(profileId: string, event: ScherpEvent): Promise<boolean> {
    return this.putIfAbsent({ ...encodeEvent(profileId, event, this.retentionDays) });
  }
}
