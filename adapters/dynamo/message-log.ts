/**
 * MessageLog on the single table: one marker item per (source, message id), written with a
 * conditional put and removed by TTL after the dedupe window. The marker keeps the timestamp the
 * first delivery used, so a retry lands on the same timeline key.
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MessageLog } from '../../app/ports';
import { isConditionFailure } from './conditions';
import { keys, TTL_ATTRIBUTE } from './keys';

export interface DynamoMessageLogOptions {
  readonly tableName: string;
  /** Days a marker is kept: the dedupe window. @default 7 */
  readonly windowDays?: number;
  readonly now?: () => Date;
}

export class DynamoMessageLog implements MessageLog {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly opts: DynamoMessageLogOptions,
  ) {}

  async claim(sourceId: string, messageId: string, timestamp: string): Promise<string | undefined> {
    const key = keys.message(sourceId, messageId);
    const now = (this.opts.now ?? (() => new Date()))();
    const ttl = Math.floor(now.getTime() / 1000) + (this.opts.windowDays ?? 7) * 86400;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.opts.tableName,
          Item: { ...key, ts: timestamp, [TTL_ATTRIBUTE]: ttl },
          // An expired marker that TTL has not removed yet does not count.
          ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
          ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':now': Math.floor(now.getTime() / 1000) },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      // The item comes back in DynamoDB's attribute-value form ({ S: … }).
      const old = (err as { Item?: Record<string, { S?: string } | undefined> }).Item;
      const ts = old?.ts?.S;
      if (typeof ts === 'string') return ts;
      // Older DynamoDB Local versions do not return the item: read it.
      const r = await this.doc.send(new GetCommand({ TableName: this.opts.tableName, Key: key, ConsistentRead: true }));
      return (r.Item?.ts as string | undefined) ?? timestamp;
    }
  }
}
