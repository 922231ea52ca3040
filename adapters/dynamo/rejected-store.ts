/**
 * RejectedStore on the single table: one item per rejected event under the day it arrived
 * (`REJ#<yyyy-mm-dd>`), removed by TTL after the retention (7 days by default). Listing reads
 * the retained days newest first; finding and erasing the records that name a person Query every
 * day an item may still be in (today, `retentionDays` back, and {@link TTL_LAG_DAYS} more for
 * items expired but not yet deleted: `retentionDays + 3` partitions, paginated) and test each
 * payload.
 */
import { BatchWriteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RejectedRecord, RejectedStore } from '../../app/ports';
import { keys, TTL_ATTRIBUTE } from './keys';
import { queryPages } from './query';

const BATCH_WRITE_LIMIT = 25;
const MAX_ATTEMPTS = 8;
const DAY_MS = 86_400_000;

/**
 * Days past its TTL an item may still be read: DynamoDB deletes expired items in the background,
 * "typically within two days of expiration", and until then they show in queries and scans.
 */
export const TTL_LAG_DAYS = 2;

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
    await this.batchWrite(items.map((Item) => ({ PutRequest: { Item } })));
  }

  /** BatchWriteItem in chunks of 25, retrying unprocessed requests with backoff; throws if some stay unprocessed. */
  private async batchWrite(requests: readonly Record<string, unknown>[]): Promise<void> {
    for (let i = 0; i < requests.length; i += BATCH_WRITE_LIMIT) {
      let pending = requests.slice(i, i + BATCH_WRITE_LIMIT);
      for (let attempt = 1; pending.length > 0; attempt++) {
        const r = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.opts.tableName]: pending } }));
        pending = (r.UnprocessedItems?.[this.opts.tableName] ?? []) as typeof pending;
        if (pending.length > 0 && attempt >= MAX_ATTEMPTS) throw new Error(`DynamoDB left ${pending.length} rejected-event writes unprocessed`);
        if (pending.length > 0) await new Promise((res) => setTimeout(res, 25 * 2 ** attempt));
      }
    }
  }

  /** The day partitions items may still be in (retained, or expired and awaiting deletion), today first. */
  private days(): string[] {
    const today = this.now().getTime();
    return Array.from({ length: this.retentionDays + 1 + TTL_LAG_DAYS }, (_, d) => new Date(today - d * DAY_MS).toISOString().slice(0, 10));
  }

  /** Every item still stored, a page at a time, newest first (strongly consistent reads). */
  private async *pages(projection?: readonly string[]): AsyncGenerator<Record<string, unknown>[]> {
    for (const day of this.days()) {
      yield* queryPages(this.doc, {
        TableName: this.opts.tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk', ...(projection ? Object.fromEntries(projection.map((a, i) => [`#a${i}`, a])) : {}) },
        ExpressionAttributeValues: { ':pk': keys.rejectedDay(day) },
        ...(projection ? { ProjectionExpression: projection.map((_, i) => `#a${i}`).join(', ') } : {}),
        ScanIndexForward: false,
        ConsistentRead: true,
      });
    }
  }

  async listMatching(matches: (text: string) => boolean): Promise<RejectedRecord[]> {
    const out: RejectedRecord[] = [];
    for await (const page of this.pages()) for (const i of page) if (itemMatches(i, matches)) out.push(toRecord(i));
    return out;
  }

  async eraseMatching(matches: (text: string) => boolean): Promise<number> {
    let deleted = 0;
    for await (const page of this.pages(['pk', 'sk', 'payload', 'issues'])) {
      // Deleting items of a partition already read does not disturb its pagination.
      const doomed = page.filter((i) => itemMatches(i, matches));
      await this.batchWrite(doomed.map((i) => ({ DeleteRequest: { Key: { pk: i.pk, sk: i.sk } } })));
      deleted += doomed.length;
    }
    return deleted;
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
        for (const i of r.Items ?? []) out.push(toRecord(i));
        start = r.LastEvaluatedKey;
      } while (start && out.length < opts.limit);
    }
    return out.slice(0, opts.limit);
  }
}

/** The payload and the issues (stored as JSON text) are what may name someone. */
function itemMatches(i: Record<string, unknown>, matches: (text: string) => boolean): boolean {
  return (typeof i.payload === 'string' && matches(i.payload)) || (typeof i.issues === 'string' && matches(i.issues));
}

function toRecord(i: Record<string, unknown>): RejectedRecord {
  return {
    sourceId: i.sourceId as string,
    route: i.route as string,
    index: i.index as number,
    issues: JSON.parse(i.issues as string),
    ...(i.limit ? { limit: i.limit as string } : {}),
    payload: i.payload as string,
    receivedAt: i.receivedAt as string,
    requestId: i.requestId as string,
  };
}
