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
import type { ScherpEvent } from '../../core/events';
import { identifierDigest, identifierKey, parseIdentifierRef, type Identifier } from '../../core/identity';
import { redactNamed } from '../../core/redact';
import type {
  BreakerWindow,
  IdentityAnomaly,
  LinkEvidence,
  MergeRecord,
  Profile,
  Quarantine,
  TraitValue,
  Traits,
} from '../../core/profile';
import { dict } from '../../core/dict';
import type {
  ErasureStore,
  IdentityGraphStore,
  IdentityLookup,
  PartitionExport,
  ProfileReader,
  ProfileStore,
  ProfileWithParts,
  ReadOptions,
  SplitStore,
  SplitWrite,
  StoredEvent,
  StoredProfile,
  TimelineEntry,
} from '../../app/ports';
import { decodeParts } from './personalization-store';
import { decodeEvent, encodeEvent, eventData, packJson, profileIdOf, unpackJson, type EventItem } from './event-codec';
import { EVENT_SK_PREFIX, keys, MERGE_SK_PREFIX, PROFILE_SK_PREFIX, SPLIT_SK_PREFIX, TTL_ATTRIBUTE } from './keys';
import type { IdentityItemView, SplitRecord } from '../../core/identity-graph';
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
  /** The traits (with their times and sources) packed (`packJson`): a root with traits stays under 1 KB. */
  tz?: Uint8Array;
  /** The traits as JSON text: roots written before `tz`. */
  tr?: string;
  createdAt: string;
  updatedAt: string;
  ver: number;
  mergedInto?: string;
  mergedFrom?: string[];
  /** Quarantine (JSON), breaker window (JSON), blocked identifiers, split origin: absent on most profiles. */
  q?: string;
  bw?: string;
  blk?: string[];
  sf?: string;
}

function toItem(p: Profile, ver: number): RootItem {
  return {
    ...keys.profile(p.id),
    id: p.id,
    ids: [...p.identifiers],
    tz: packJson(p.traits),
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
    ver,
    mergedInto: p.mergedInto,
    mergedFrom: p.mergedFrom && p.mergedFrom.length > 0 ? [...p.mergedFrom] : undefined,
    ...(p.quarantine ? { q: JSON.stringify(p.quarantine) } : {}),
    ...(p.breaker ? { bw: JSON.stringify(p.breaker) } : {}),
    ...(p.blocked && p.blocked.length > 0 ? { blk: [...p.blocked] } : {}),
    ...(p.splitFrom ? { sf: p.splitFrom } : {}),
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
    traits: dict((i.tz ? unpackJson(i.tz) : JSON.parse(i.tr ?? '{}')) as Traits),
    createdAt: i.createdAt,
    updatedAt: i.updatedAt,
    ...(i.mergedInto ? { mergedInto: i.mergedInto } : {}),
    ...(i.mergedFrom ? { mergedFrom: i.mergedFrom } : {}),
    ...(i.q ? { quarantine: JSON.parse(i.q) as Quarantine } : {}),
    ...(i.bw ? { breaker: JSON.parse(i.bw) as BreakerWindow } : {}),
    ...(i.blk ? { blocked: i.blk } : {}),
    ...(i.sf ? { splitFrom: i.sf } : {}),
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
  readonly src?: string;
  /** Links refused because the profile is quarantined (`core/breaker.ts`). */
  readonly qref?: string[];
  /** This event tripped the circuit breaker: why (`Identity Anomaly`). */
  readonly anomaly?: string;
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
    ...(r.sourceId ? { src: r.sourceId } : {}),
    ...(r.quarantineRefused && r.quarantineRefused.length > 0 ? { qref: [...r.quarantineRefused] } : {}),
    ...(r.anomaly ? { anomaly: JSON.stringify(r.anomaly) } : {}),
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
    ...(i.src ? { sourceId: i.src } : {}),
    ...(i.qref ? { quarantineRefused: i.qref } : {}),
    ...(i.anomaly ? { anomaly: JSON.parse(i.anomaly) as IdentityAnomaly } : {}),
  };
}

/**
 * An identity item: the profile it points to, when it was linked and (since explain) the event
 * that linked it (`lm`, `ls`, `lt`: its message id, source and timestamp, a few dozen bytes in the same write, no extra write unit
 * for a usual identifier).
 */
export function identityItem(id: Identifier, profileId: string, at: string, by?: LinkEvidence): Record<string, unknown> {
  return {
    ...keys.identity(id.type, id.value),
    pid: profileId,
    at,
    ...(by ? { lm: by.messageId, ls: by.sourceId, lt: by.timestamp } : {}),
  };
}

const BATCH_GET_LIMIT = 100;

/** The suppression marker key of an identifier: a SHA-256 of `type:value`, so it names nobody. */
export function suppressionKey(id: Identifier): { pk: string; sk: string } {
  return keys.suppressed(identifierDigest(identifierKey(id)));
}

export class DynamoProfileStore implements ProfileStore, ProfileReader, ErasureStore, IdentityGraphStore, SplitStore {
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
    const blocked: string[] = [];
    for (const it of items) {
      const pk = it.pk as string;
      if (byPk.has(pk)) {
        owners.set(byPk.get(pk)!, it.pid as string);
        if (it.blk === 'global') blocked.push(byPk.get(pk)!);
      } else if (supByPk.has(pk)) suppressed.push(supByPk.get(pk)!);
    }
    return { owners, suppressed, ...(blocked.length > 0 ? { blocked } : {}) };
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

  async liftSuppression(id: Identifier, audit: { readonly at: string; readonly by: string }): Promise<boolean> {
    const marker = suppressionKey(id);
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Delete: { TableName: this.opts.tableName, Key: marker, ConditionExpression: 'attribute_exists(pk)' } },
            { Put: { TableName: this.opts.tableName, Item: { pk: marker.pk, sk: `LIFTED#${audit.at}`, at: audit.at, by: audit.by } } },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (isConditionOrConflict(err)) return false;
      throw err;
    }
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

  async indexForeignIdentifiers(refs: readonly string[], profileId: string, event: ScherpEvent): Promise<void> {
    const item = encodeEvent(profileId, event, this.retentionDays);
    const digests = new Set(refs.map((r) => parseIdentifierRef(r)?.digest).filter((d): d is string => d !== undefined));
    await batchWriteAll(
      this.doc,
      this.opts.tableName,
      [...digests].map((d) => ({
        PutRequest: {
          Item: { ...keys.foreignMention(d, profileId, item.sk), pid: profileId, esk: item.sk, [TTL_ATTRIBUTE]: item[TTL_ATTRIBUTE] },
        },
      })),
      'profile writes',
    );
  }

  async redactForeignMentions(ids: readonly Identifier[], matches: (json: string) => boolean): Promise<number> {
    let changed = 0;
    const profiles = new Set<string>();
    for (const digest of new Set(ids.map((id) => identifierDigest(identifierKey(id))))) {
      const entries = await queryAll(this.doc, {
        TableName: this.opts.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.foreignMentions(digest) },
      });
      for (const e of entries as { pk: string; sk: string; pid: string; esk: string }[]) {
        profiles.add(e.pid);
        const key = { pk: keys.profile(e.pid).pk, sk: e.esk };
        const got = await this.doc.send(new GetCommand({ TableName: this.opts.tableName, Key: key, ConsistentRead: true }));
        const item = got.Item as EventItem | undefined;
        if (item) {
          const r = redactNamed(decodeEvent(item), matches);
          if (r.removed > 0) {
            // Rewritten in place (a MODIFY: the stream's filter passes INSERTs only, so no rule runs again).
            try {
              await this.doc.send(
                new PutCommand({
                  TableName: this.opts.tableName,
                  Item: { ...item, d: eventData(r.value) },
                  ConditionExpression: 'attribute_exists(pk)',
                }),
              );
              changed++;
            } catch (err) {
              // Moved or expired meanwhile: nothing left to redact there.
              if (!isConditionFailure(err)) throw err;
            }
          }
        }
      }
      await batchWriteAll(
        this.doc,
        this.opts.tableName,
        entries.map((e) => ({ DeleteRequest: { Key: { pk: e.pk, sk: e.sk } } })),
        'profile writes',
      );
    }
    // Those events may have set traits on their profile (an identify naming the person's email,
    // kept by the other side of a split): traits holding a value of the person's go too.
    for (const pid of profiles) await this.redactRootTraits(pid, matches);
    return changed;
  }

  /** Drops the traits of a profile root that hold what `matches` names (conditioned on its version; retried). */
  private async redactRootTraits(profileId: string, matches: (json: string) => boolean): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const sp = (await this.getProfiles([profileId])).get(profileId);
      if (!sp) return;
      const traits = dict<TraitValue>();
      let removed = 0;
      for (const [k, v] of Object.entries(sp.profile.traits)) {
        if (matches(JSON.stringify(k)) || redactNamed({ v }, matches).removed > 0) removed++;
        else traits[k] = v;
      }
      if (removed === 0 || (await this.saveProfile({ ...sp.profile, traits }, sp.version))) return;
    }
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

  async claimIdentity(id: Identifier, profileId: string, at: string, by?: LinkEvidence): Promise<string> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.opts.tableName,
          Item: identityItem(id, profileId, at, by),
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

  async createProfile(profile: Profile, first: Identifier, at: string, by?: LinkEvidence): Promise<boolean> {
    const t = this.opts.tableName;
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: t, Item: toItem(profile, 1), ConditionExpression: 'attribute_not_exists(pk)' } },
            {
              Put: {
                TableName: t,
                Item: identityItem(first, profile.id, at, by),
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

  async readIdentities(ids: readonly Identifier[]): Promise<Map<string, IdentityItemView>> {
    const byPk = new Map(ids.map((id) => [keys.identity(id.type, id.value).pk, identifierKey(id)]));
    const items = await this.batchGet([...byPk.keys()].map((pk) => ({ pk, sk: 'ID' })));
    const out = new Map<string, IdentityItemView>();
    for (const it of items) {
      const key = byPk.get(it.pk as string);
      if (key === undefined) continue;
      out.set(key, {
        profileId: it.pid as string,
        at: it.at as string,
        ...(typeof it.lm === 'string'
          ? { by: { messageId: it.lm, sourceId: (it.ls as string) ?? '', timestamp: (it.lt as string) ?? '' } }
          : {}),
        ...(it.blk === 'global' ? { blocked: 'global' as const } : {}),
      });
    }
    return out;
  }

  async listGraphRecords(profileId: string): Promise<{ merges: MergeRecord[]; splits: SplitRecord[] }> {
    const items = await this.queryPartition(profileId, MERGE_SK_PREFIX);
    const merges: MergeRecord[] = [];
    const splits: SplitRecord[] = [];
    for (const i of items) {
      if (i.kind === undefined) merges.push(fromMergeRecordItem(i as unknown as MergeRecordItem));
      else if (i.kind === 'split') splits.push(JSON.parse(i.rec as string) as SplitRecord);
    }
    return { merges, splits };
  }

  async listPartitionEvents(profileId: string): Promise<StoredEvent[]> {
    const items = await this.queryPartition(profileId, EVENT_SK_PREFIX);
    return items.map((i) => ({ profileId, sk: i.sk as string, event: decodeEvent(i as unknown as EventItem) }));
  }

  async applySplit(w: SplitWrite): Promise<boolean> {
    const t = this.opts.tableName;
    const rootPut = (p: Profile, expected: number) => ({
      Put: {
        TableName: t,
        Item: toItem(p, expected + 1),
        ...(expected === 0
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: 'ver = :v', ExpressionAttributeValues: { ':v': expected } }),
      },
    });
    const repoint = (r: SplitWrite['repoints'][number]) => ({
      Update: {
        TableName: t,
        Key: keys.identity(r.id.type, r.id.value),
        UpdateExpression: r.block ? 'SET pid = :to, blk = :b' : 'SET pid = :to',
        ConditionExpression: 'pid = :from',
        ExpressionAttributeValues: { ':to': r.to, ':from': r.from, ...(r.block ? { ':b': r.block } : {}) },
      },
    });
    const rec = w.record;
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            ...w.roots.map((r) => rootPut(r.profile, r.expectedVersion)),
            ...w.repoints.map(repoint),
            {
              Put: {
                TableName: t,
                Item: { ...keys.splitRecord(rec.profiles[0]!, rec.splitId, rec.at), kind: 'split', rec: JSON.stringify(rec) },
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

  async moveEvents(moves: readonly { readonly event: StoredEvent; readonly to: string }[]): Promise<void> {
    if (moves.length === 0) return;
    // Copies first (marked `mv`: evaluate does not run rules on them again), then the originals:
    // an interruption leaves an event in both partitions, shown once (same sort key), and the
    // repeated split finishes the move.
    await batchWriteAll(
      this.doc,
      this.opts.tableName,
      moves.map((m) => ({
        PutRequest: { Item: { ...encodeEvent(m.to, m.event.event, this.retentionDays), sk: m.event.sk, mv: 1 } },
      })),
      'profile writes',
    );
    await batchWriteAll(
      this.doc,
      this.opts.tableName,
      moves.map((m) => ({ DeleteRequest: { Key: { pk: keys.profile(m.event.profileId).pk, sk: m.event.sk } } })),
      'profile writes',
    );
  }

  async findSplit(profileId: string, splitId: string): Promise<SplitRecord | undefined> {
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.opts.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': keys.profile(profileId).pk, ':p': `${SPLIT_SK_PREFIX}${splitId}#` },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const it = res.Items?.[0];
    return it ? (JSON.parse(it.rec as string) as SplitRecord) : undefined;
  }

  async putSplitDone(rec: SplitRecord): Promise<boolean> {
    return this.putIfAbsent({ ...keys.splitDone(rec.profiles[0]!, rec.splitId, rec.at), kind: 'split-done', rec: JSON.stringify(rec) });
  }

  async rewriteMergeRecords(records: readonly MergeRecord[]): Promise<void> {
    await batchWriteAll(
      this.doc,
      this.opts.tableName,
      records.map((r) => ({ PutRequest: { Item: { ...mergeRecordItem(r) } } })),
      'profile writes',
    );
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
    // Items as stored, but readable: a root's packed traits as the JSON text older roots hold.
    const items = all
      .filter((i) => !(i.sk as string).startsWith(EVENT_SK_PREFIX))
      .map(({ pk: _pk, tz, ...rest }) => (tz instanceof Uint8Array ? { ...rest, tr: JSON.stringify(unpackJson(tz)) } : rest));
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
