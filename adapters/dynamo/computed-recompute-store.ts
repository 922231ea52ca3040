/**
 * What the computed-trait recompute reads and writes (`app/computed-recompute.ts`): the
 * `PROFILE#C` part (read and decoded as evaluate's store does), each partition's events and
 * merge records (the profile store's strongly consistent queries), the part written in one
 * transaction with a check of the root's version, and the digests item `COMPUTED#DEFS / DEFS`.
 */
import { GetCommand, PutCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ComputedState } from '../../core/computed';
import { dict } from '../../core/dict';
import type { ComputedDigestStore, RecomputeStore } from '../../app/computed-recompute';
import type { MergeRecord } from '../../core/profile';
import type { StoredComputed, StoredEvent } from '../../app/ports';
import { computedAttributes, DynamoComputedStore } from './computed-store';
import { isConditionOrConflict } from './conditions';
import { EVAL_FAILURE_SK_PREFIX, keys } from './keys';
import { queryAll } from './query';
import type { DynamoProfileStore } from './profile-store';

export class DynamoRecomputeStore implements RecomputeStore {
  private readonly parts: DynamoComputedStore;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly profiles: Pick<DynamoProfileStore, 'listPartitionEvents' | 'listGraphRecords'>,
  ) {
    this.parts = new DynamoComputedStore(doc, tableName);
  }

  load(profileIds: readonly string[]): Promise<Map<string, StoredComputed>> {
    return this.parts.load(profileIds);
  }

  listPartitionEvents(profileId: string): Promise<StoredEvent[]> {
    return this.profiles.listPartitionEvents(profileId);
  }

  listGraphRecords(profileId: string): Promise<{ merges: MergeRecord[] }> {
    return this.profiles.listGraphRecords(profileId);
  }

  async listFailedKeys(profileId: string): Promise<string[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': keys.profile(profileId).pk, ':p': EVAL_FAILURE_SK_PREFIX },
      ProjectionExpression: 'itemSk',
      ConsistentRead: true,
    });
    return items.map((i) => String(i.itemSk));
  }

  async saveIfLive(profileId: string, state: ComputedState, expectedVersion: number, rootVersion: number): Promise<boolean> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.tableName,
                Key: keys.profile(profileId),
                ConditionExpression: 'ver = :rv AND attribute_not_exists(mergedInto)',
                ExpressionAttributeValues: { ':rv': rootVersion },
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { ...keys.computed(profileId), ...computedAttributes(state), ver: expectedVersion + 1 },
                ...(expectedVersion === 0
                  ? { ConditionExpression: 'attribute_not_exists(pk)' }
                  : { ConditionExpression: 'ver = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
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
}

export class DynamoComputedDigestStore implements ComputedDigestStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(): Promise<Readonly<Record<string, string>> | undefined> {
    const got = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.computedDigests(), ConsistentRead: true }));
    return got.Item ? dict(JSON.parse(String(got.Item.doc)) as Record<string, string>) : undefined;
  }

  async put(digests: Readonly<Record<string, string>>): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.computedDigests(), doc: JSON.stringify(digests), at: new Date().toISOString() },
      }),
    );
  }
}
