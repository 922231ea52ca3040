/**
 * The due index of time-based exits (`core/expiry.ts`): `DUE#<minute> / <audienceId>#<profileId>`
 * items, filed with the membership write that enters a windowed audience, and a watermark of the
 * last minute swept. A sweep reads the minute partitions since the watermark: one Query each.
 */
import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DueItem, DueStore } from '../../app/ports';
import { minuteOf, minutesBetween } from '../../core/expiry';
import { keys } from './keys';
import { dueItem } from './membership-store';
import { queryAll } from './query';

/** How far back a first sweep (no watermark) looks. */
const FIRST_LOOKBACK_MS = 60 * 60_000;

export class DynamoDueStore implements DueStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async listDue(nowMs: number): Promise<DueItem[]> {
    const mark = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.sweepMark(), ConsistentRead: true }));
    // Re-read the watermark's own minute: items filed into it after the last sweep are still due.
    const from = typeof mark.Item?.ms === 'number' ? mark.Item.ms : nowMs - FIRST_LOOKBACK_MS;
    const out: DueItem[] = [];
    for (const minute of minutesBetween(from, nowMs)) {
      const items = await queryAll(this.doc, {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.dueMinute(minute) },
        ConsistentRead: true,
      });
      for (const it of items) {
        const dueAt = String(it.at);
        if (Date.parse(dueAt) <= nowMs) out.push({ audienceId: String(it.aud), profileId: String(it.pid), dueAt });
      }
    }
    return out;
  }

  async file(item: DueItem): Promise<void> {
    const put = dueItem(this.tableName, item.audienceId, item.profileId, item.dueAt).Put!;
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: put.Item }));
  }

  async remove(item: DueItem): Promise<void> {
    await this.doc
      .send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.due(minuteOf(Date.parse(item.dueAt)), item.audienceId, item.profileId),
          // A re-file into the same minute with a later time is kept.
          ConditionExpression: 'attribute_not_exists(pk) OR #at = :at',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':at': item.dueAt },
        }),
      )
      .catch((err: { name?: string }) => {
        if (err?.name !== 'ConditionalCheckFailedException') throw err;
      });
  }

  async markSwept(nowMs: number): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...keys.sweepMark(), ms: nowMs } }));
  }
}
