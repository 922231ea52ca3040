/**
 * SourceStore on the single table: sources and their key listings under one partition
 * (`SOURCES`, read with one Query), and one lookup item per write key under the key's SHA-256
 * digest (one GetItem per cache miss), which also carries the source's party and name so collect
 * stamps them on events without another read. Admin operations are rare: they use transactions
 * so the listing and the lookup item never disagree. A name item (`N#<name>`) claims each
 * source's name. Deleting a source revokes its keys, frees its name and marks it `deletedAt`
 * (a tombstone, so its id is never reused while stored events name it).
 */
import { GetCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { sourceNameKey, sourceTrust, type Source, type SourceChange, type SourceKey } from '../../core/sources';
import type { KeyRecord, SourceStore, SourceWithKeys } from '../../app/ports';
import { isConditionFailure, isTransactionConflict } from './conditions';
import { keys, SOURCE_KEY_SK_INFIX, SOURCE_SK_PREFIX, SOURCES_PK } from './keys';
import { queryAll } from './query';

interface SourceItem extends Source {
  readonly pk: string;
  readonly sk: string;
  /** Set when the source was deleted. */
  readonly deletedAt?: string;
}

interface KeyListingItem extends SourceKey {
  readonly pk: string;
  readonly sk: string;
  readonly digest: string;
}

function toSourceKey(i: KeyListingItem): SourceKey {
  return { id: i.id, sourceId: i.sourceId, status: i.status, createdAt: i.createdAt, ...(i.revokedAt ? { revokedAt: i.revokedAt } : {}) };
}

/** Sends of a source create: a lost conflict is tried once more. */
const CREATE_ATTEMPTS = 2;
/** Pause before that second send (doubled at most by jitter): a transaction commits in milliseconds. */
const CONFLICT_RETRY_MS = 25;

export class DynamoSourceStore implements SourceStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private keyPuts(source: Source, key: SourceKey, digest: string) {
    return [
      {
        Put: {
          TableName: this.tableName,
          Item: { ...keys.sourceKey(source.id, key.id), ...key, digest },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      {
        Put: {
          TableName: this.tableName,
          Item: {
            ...keys.writeKey(digest),
            keyId: key.id,
            sourceId: source.id,
            party: source.party,
            sourceName: source.name,
            trust: sourceTrust(source),
            ...(source.rateLimit ? { rateLimit: source.rateLimit } : {}),
            status: key.status,
            createdAt: key.createdAt,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ];
  }

  async createSource(source: Source, key: SourceKey, digest: string): Promise<boolean> {
    const name = {
      Put: {
        TableName: this.tableName,
        Item: { ...keys.sourceName(sourceNameKey(source.name)), sourceId: source.id },
        // Free, or freed by a deleted source.
        ConditionExpression: 'attribute_not_exists(pk) OR attribute_not_exists(sourceId)',
      },
    };
    const create = new TransactWriteCommand({
      TransactItems: [
        name,
        {
          Put: {
            TableName: this.tableName,
            Item: { ...keys.source(source.id), ...source },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        ...this.keyPuts(source, key, digest),
      ],
    });
    for (let attempt = 1; ; attempt++) {
      try {
        await this.doc.send(create);
        return true;
      } catch (err) {
        // Only the name can be taken: the source id and the key are new random values.
        if (isConditionFailure(err)) return false;
        // Two creates of one name at once: DynamoDB may cancel the loser for the conflict rather
        // than the condition. Nothing was written, so it is sent once more, after the winner
        // committed: then it fails the name's condition (409). A second conflict is a 500.
        if (attempt < CREATE_ATTEMPTS && isTransactionConflict(err)) {
          await new Promise((r) => setTimeout(r, CONFLICT_RETRY_MS * (1 + Math.random())));
          continue;
        }
        throw err;
      }
    }
  }

  async deleteSource(sourceId: string, at: string): Promise<boolean> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': SOURCES_PK, ':p': keys.source(sourceId).sk },
      ConsistentRead: true,
    });
    const source = items.find((i) => i.sk === keys.source(sourceId).sk) as SourceItem | undefined;
    if (!source || source.deletedAt) return false;
    // Keys first, so they stop working even if this stops half way (a retry does the rest).
    for (const k of items.filter((i) =>
      (i.sk as string).startsWith(`${keys.source(sourceId).sk}${SOURCE_KEY_SK_INFIX}`),
    ) as unknown as KeyListingItem[]) {
      await this.revokeKey(sourceId, k.id, at);
    }
    // Then the name (if this source holds it; sources made before names were claimed hold none).
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.sourceName(sourceNameKey(source.name)),
          UpdateExpression: 'REMOVE sourceId SET freedAt = :at',
          ConditionExpression: 'sourceId = :id',
          ExpressionAttributeValues: { ':id': sourceId, ':at': at },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    // Last the tombstone: until then a retry finds the source again.
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.source(sourceId),
          UpdateExpression: 'SET deletedAt = :at',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deletedAt)',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  private async query(skPrefix: string): Promise<SourceWithKeys[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': SOURCES_PK, ':p': skPrefix },
    });
    const bySource = new Map<string, { source?: Source; keys: SourceKey[] }>();
    const deleted = new Set<string>();
    const entry = (id: string) => bySource.get(id) ?? bySource.set(id, { keys: [] }).get(id)!;
    for (const i of items) {
      const sk = i.sk as string;
      if (sk.includes(SOURCE_KEY_SK_INFIX)) {
        const k = i as unknown as KeyListingItem;
        entry(k.sourceId).keys.push(toSourceKey(k));
      } else if ((i.sk as string).startsWith(SOURCE_SK_PREFIX)) {
        const s = i as unknown as SourceItem;
        if (s.deletedAt) deleted.add(s.id);
        else
          entry(s.id).source = {
            id: s.id,
            name: s.name,
            party: s.party,
            trust: sourceTrust(s),
            ...(s.rateLimit ? { rateLimit: s.rateLimit } : {}),
            createdAt: s.createdAt,
          };
      }
    }
    for (const id of deleted) bySource.delete(id);
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
    const digests = (
      await queryAll(this.doc, {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': SOURCES_PK, ':p': `${keys.source(sourceId).sk}${SOURCE_KEY_SK_INFIX}` },
      })
    ).map((i) => (i as unknown as KeyListingItem).digest);
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
        UpdateExpression: [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : '']
          .filter(Boolean)
          .join(' '),
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: {
          ...(change.trust !== undefined ? { '#t': 'trust' } : {}),
          ...(change.rateLimit !== undefined ? { '#r': 'rateLimit' } : {}),
        },
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
    const listing = (
      await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.sourceKey(sourceId, keyId), ConsistentRead: true }))
    ).Item as KeyListingItem | undefined;
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
    await this.doc.send(
      new TransactWriteCommand({ TransactItems: [update(keys.sourceKey(sourceId, keyId)), update(keys.writeKey(listing.digest))] }),
    );
    return true;
  }

  async findKey(digest: string): Promise<KeyRecord | undefined> {
    const i = (await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.writeKey(digest) }))).Item;
    if (!i) return undefined;
    return {
      keyId: i.keyId,
      sourceId: i.sourceId,
      party: i.party,
      trust: sourceTrust(i),
      ...(i.rateLimit ? { rateLimit: i.rateLimit } : {}),
      status: i.status,
      ...(typeof i.sourceName === 'string' ? { sourceName: i.sourceName } : {}),
    };
  }
}
