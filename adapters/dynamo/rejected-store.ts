/**
 * RejectedStore on the single table: one item per rejected event under the day it arrived
 * (`REJ#<yyyy-mm-dd>`), removed by TTL after the retention (7 days by default). Listing reads
 * the retained days newest first.
 */
import { BatchWriteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RejectedRecord, RejectedStore } from '../../app/ports';
import { keys, TTL_ATTRIBUTE } from './keys';

const BATCH_WRITE_LIMIT = 25;
const MAX_ATTEMPTS = 8;
const DAY_MS = 86_400_000;

export interface DynamoRejectedStoreOptions {
  readonly tableName: string;
  /** Days a rejected event is kept. @default 7 */
  readonly retentionDays?: number;
  readonly now?: () => Date;
}

export class DynamoRejectedStore implements RejectedStore {
  private readonly retentionDays: number;
  private readonly now: () => Date;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly opts: DynamoRejectedStoreOptions,
  ) {
    this.retentionDays = opts.retentionDays ?? 7;
    this.now = opts.now ?? (() => new Date());
  }

  async save(records: readonly RejectedRecord[]): Promise<void> {
    const items = records.map((r) => ({
      ...keys.rejected(r.receivedAt.slice(0, 10), r.receivedAt, r.requestId, r.index),
      ...r,
      issues: JSON.stringify(r.issues),
      [TTL_ATTRIBUTE]: Math.floor(Date.parse(r.receivedAt) / 1000) + this.retentionDays * 86400,
    }));
    for (let i = 0; i < items.length; i += BATCH_WRITE_LIMIT) {
      let pending = items.slice(i, i + BATCH_WRITE_LIMIT).map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 1; pending.length > 0; attempt++) {
        const r = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.opts.tableName]: pending } }));
        pending = (r.UnprocessedItems?.[this.opts.tableName] ?? []) as typeof pending;
        if (pending.length > 0 && attempt >= MAX_ATTEMPTS) throw new Error(`DynamoDB left ${pending.length} rejected events unwritten`);
        if (pending.length > 0) await new Promise((res) => setTimeout(res, 25 * 2 ** attempt));
      }
    }
  }

  async list(opts: { readonly limit: number; readonly sourceId?: string }): Promise<RejectedRecord[]> {
    const out: RejectedRecord[] = [];
    const today = this.now().getTime();
    for (let d = 0; d <= this.retentionDays && out.length < opts.limit; d++) {
      const day = new Date(today - d * DAY_MS).toISOString().slice(0, 10);
      let start: Record<string, unknown> | undefined;
      do {
        const r = await this.doc.send(
          new QueryCommand({
            TableName: this.opts.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': keys.rejectedDay(day), ...(opts.sourceId ? { ':src': opts.sourceId } : {}) },
            ...(opts.sourceId ? { FilterExpression: 'sourceId = :src' } : {}),
            ScanIndexForward: false,
            Limit: opts.limit - out.length,
            ExclusiveStartKey: start,
          }),
        );
        for (const i of r.Items ?? []) {
          out.push({
            sourceId: i.sourceId,
            route: i.route,
            index: i.index,
            issues: JSON.parse(i.issues),
            ...(i.limit ? { limit: i.limit } : {}),
            payload: i.payload,
            receivedAt: i.receivedAt,
            requestId: i.requestId,
          });
        }
        start = r.LastEvaluatedKey;
      } while (start && out.length < opts.limit);
    }
    return out.slice(0, opts.limit);
  }
}
