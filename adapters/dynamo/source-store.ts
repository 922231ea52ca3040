/**
 * SourceStore on the single table: sources and their key listings under one partition
 * (`SOURCES`, read with one Query), and one lookup item per write key under the key's SHA-256
 * digest (one GetItem per cache miss). Admin operations are rare: they use transactions so the
 * listing and the lookup item never disagree.
 */
import { GetCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { sourceTrust, type Source, type SourceChange, type SourceKey } from '../../core/sources';
import type { KeyRecord, SourceStore, SourceWithKeys } from '../../app/ports';
import { isConditionFailure } from './client';
import { keys, SOURCE_KEY_SK_INFIX, SOURCE_SK_PREFIX, SOURCES_PK } from './keys';
import { queryAll } from './query';

interface SourceItem extends Source {
  readonly pk: string;
  readonly sk: string;
}

interface KeyListingItem extends SourceKey {
  readonly pk: string;
  readonly sk: string;
  readonly digest: string;
}

function toSourceKey(i: KeyListingItem): SourceKey {
  return { id: i.id, sourceId: i.sourceId, status: i.status, createdAt: i.createdAt, ...(i.revokedAt ? { revokedAt: i.revokedAt } : {}) };
}

export class DynamoSourceStore implements SourceStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private keyPuts(source: Source, key: SourceKey, digest: string) {
    return [
      { Put: { TableName: this.tableName, Item: { ...keys.sourceKey(source.id, key.id), ...key, digest }, ConditionExpression: 'attribute_not_exists(pk)' } },
      {
        Put: {
          TableName: this.tableName,
          Item: { ...keys.writeKey(digest), keyId: key.id, sourceId: source.id, party: source.party, trust: sourceTrust(source), ...(source.rateLimit ? { rateLimit: source.rateLimit } : {}), status: key.status, createdAt: key.createdAt },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ];
  }

  async createSource(source: Source, key: SourceKey, digest: string): Promise<void> {
    await this.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: this.tableName, Item: { ...keys.source(source.id), ...source }, ConditionExpression: 'attribute_not_exists(pk)' } },
          ...this.keyPuts(source, key, digest),
        ],
      }),
    );
  }

  private async query(skPrefix: string): Promise<SourceWithKeys[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': SOURCES_PK, ':p': skPrefix },
    });
    const bySource = new Map<string, { source?: Source; keys: SourceKey[] }>();
    const entry = (id: string) => bySource.get(id) ?? bySource.set(id, { keys: [] }).get(id)!;
    for (const i of items) {
      const sk = i.sk as string;
      if (sk.includes(SOURCE_KEY_SK_INFIX)) {
        const k = i as unknown as KeyListingItem;
        entry(k.sourceId).keys.push(toSourceKey(k));
      } else {
        const s = i as unknown as SourceItem;
        entry(s.id).source = { id: s.id, name: s.name, party: s.party, trust: sourceTrust(s), ...(s.rateLimit ? { rateLimit: s.rateLimit } : {}), createdAt: s.createdAt };
      }
    }
    return [...bySource.values()].filter((e): e is SourceWithKeys & { keys: SourceKey[] } => e.source !== undefined);
  }

  listSources(): Promise<SourceWithKeys[]> {
    return this.query(SOURCE_SK_PREFIX);
  }

  async getSource(sourceId: string): Promise<SourceWithKeys | undefined> {
    // `S#<id>` also prefixes `S#<id>x…`: keep only this source.
    return (await this.query(keys.source(sourceId).sk)).find((s) => s.source.id === sourceId);
  }

  async addKey(source: Source, key: SourceKey, digest: string): Promise<boolean> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { ConditionCheck: { TableName: this.tableName, Key: keys.source(source.id), ConditionExpression: 'attribute_exists(pk)' } },
            ...this.keyPuts(source, key, digest),
          ],
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async updateSource(sourceId: string, change: SourceChange): Promise<Source | undefined> {
    const found = await this.getSource(sourceId);
    if (!found) return undefined;
    const digests = (await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': SOURCES_PK, ':p': `${keys.source(sourceId).sk}${SOURCE_KEY_SK_INFIX}` },
    })).map((i) => (i as unknown as KeyListingItem).digest);
    const sets: string[] = [];
    const removes: string[] = [];
    const values: Record<string, unknown> = {};
    if (change.trust !== undefined) {
      sets.push('#t = :t');
      values[':t'] = change.trust;
    }
    if (change.rateLimit === null) removes.push('#r');
    else if (change.rateLimit !== undefined) {
      sets.push('#r = :r');
      values[':r'] = change.rateLimit;
    }
    const update = (key: { pk: string; sk: string }) => ({
      Update: {
        TableName: this.tableName,
        Key: key,
        UpdateExpression: [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].filter(Boolean).join(' '),
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { ...(change.trust !== undefined ? { '#t': 'trust' } : {}), ...(change.rateLimit !== undefined ? { '#r': 'rateLimit' } : {}) },
        ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
      },
    });
    // A transaction takes at most 100 items: the source and 99 keys (rotate and revoke keep few).
    const items = [keys.source(sourceId), ...digests.map((d) => keys.writeKey(d))];
    for (let i = 0; i < items.length; i += 100) {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items.slice(i, i + 100).map(update) }));
    }
    const { rateLimit: _old, ...rest } = found.source;
    const rateLimit = change.rateLimit === undefined ? found.source.rateLimit : (change.rateLimit ?? undefined);
    return { ...rest, ...(change.trust !== undefined ? { trust: change.trust } : {}), ...(rateLimit ? { rateLimit } : {}) };
  }

  async revokeKey(sourceId: string, keyId: string, at: string): Promise<boolean> {
    const listing = (await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.sourceKey(sourceId, keyId), ConsistentRead: true }))).Item as
      | KeyListingItem
      | undefined;
    if (!listing) return false;
    if (listing.status === 'revoked') return true;
    const update = (key: { pk: string; sk: string }) => ({
      Update: {
        TableName: this.tableName,
        Key: key,
        UpdateExpression: 'SET #s = :r, revokedAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':r': 'revoked', ':at': at },
      },
    });
    await this.doc.send(new TransactWriteCommand({ TransactItems: [update(keys.sourceKey(sourceId, keyId)), update(keys.writeKey(listing.digest))] }));
    return true;
  }

  async findKey(digest: string): Promise<KeyRecord | undefined> {
    const i = (await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.writeKey(digest) }))).Item;
    if (!i) return undefined;
    return { keyId: i.keyId, sourceId: i.sourceId, party: i.party, trust: sourceTrust(i), ...(i.rateLimit ? { rateLimit: i.rateLimit } : {}), status: i.status };
  }
}
