/**
 * RejectedStore on the single table: one item per rejected event under the day it arrived
 * (`REJ#<yyyy-mm-dd>`), removed by TTL after the retention (7 days by default), and one small
 * index item per term the record mentions (`REJ#IX#<sha256 of the term>`, same sort key and TTL;
 * `core/mention-terms.ts`), written before the record so every stored record is indexed. Listing
 * reads the retained days newest first; finding and erasing the records that name a person Query
 * the index partitions of the person's terms (only entries of days an item may still be in:
 * today, `retentionDays` back and {@link TTL_LAG_DAYS} more), read those records and confirm each
 * with the matcher: the cost grows with the records naming the person, never with what else is
 * kept.
 */
import { batchWriteAll } from './batch-write';
import { BatchGetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import type { RejectedRecord, RejectedStore } from '../../app/ports';
import { mentionTerms } from '../../core/mention-terms';
import type { PayloadMatcher } from '../../core/mentions';
import { keys, TTL_ATTRIBUTE } from './keys';
import { queryAll } from './query';

const BATCH_GET_LIMIT = 100;
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
    const indexItems: Record<string, unknown>[] = [];
    const items = records.map((r) => {
      const k = keys.rejected(r.receivedAt.slice(0, 10), r.receivedAt, r.requestId, r.index);
      const ttl = Math.floor(Date.parse(r.receivedAt) / 1000) + this.retentionDays * 86400;
      const issues = JSON.stringify(r.issues);
      const terms = mentionTerms(r.payload, issues);
      // More identifier-like values than one record is indexed under: the payload is not kept.
      const payload = terms ? r.payload : JSON.stringify(PAYLOAD_NOT_KEPT);
      const digests = (terms ?? mentionTerms(payload, issues) ?? []).map(termDigest);
      for (const d of digests) indexItems.push({ ...keys.rejectedIndex(d, k.sk), receivedAt: r.receivedAt, [TTL_ATTRIBUTE]: ttl });
      return { ...k, ...r, payload, issues, ix: digests, [TTL_ATTRIBUTE]: ttl };
    });
    // The index first: a record is never stored without its entries (an entry without its
    // record, after a failure, leads nowhere and expires with it).
    await batchWriteAll(
      this.doc,
      this.opts.tableName,
      indexItems.map((Item) => ({ PutRequest: { Item } })),
      'rejected-event writes',
    );
    await batchWriteAll(
      this.doc,
      this.opts.tableName,
      items.map((Item) => ({ PutRequest: { Item } })),
      'rejected-event writes',
    );
  }

  /** The oldest day an item may still be stored on (retained, or expired and awaiting deletion). */
  private oldestDay(): string {
    return new Date(this.now().getTime() - (this.retentionDays + TTL_LAG_DAYS) * DAY_MS).toISOString().slice(0, 10);
  }

  /**
   * The records indexed under the matcher's terms that it confirms, newest first, and the index
   * entries the lookup read (strongly consistent reads throughout).
   */
  private async find(
    matches: PayloadMatcher,
  ): Promise<{ found: Record<string, unknown>[]; entries: { pk: string; sk: string }[]; stored: Set<string> }> {
    const entries: { pk: string; sk: string }[] = [];
    for (const term of new Set(matches.terms)) {
      const got = await queryAll(this.doc, {
        TableName: this.opts.tableName,
        KeyConditionExpression: 'pk = :pk AND sk >= :from',
        ExpressionAttributeValues: { ':pk': keys.rejectedIndex(termDigest(term), '').pk, ':from': this.oldestDay() },
        ProjectionExpression: 'pk, sk',
        ConsistentRead: true,
      });
      entries.push(...(got as { pk: string; sk: string }[]));
    }
    const recordKeys = new Map(entries.map((e) => [e.sk, { pk: keys.rejectedDay(e.sk.slice(0, 10)), sk: e.sk }]));
    const records = await this.batchGet([...recordKeys.values()]);
    const found = records.filter((i) => itemMatches(i, matches)).sort((a, b) => ((a.sk as string) < (b.sk as string) ? 1 : -1));
    return { found, entries, stored: new Set(records.map((i) => i.sk as string)) };
  }

  /** BatchGetItem in chunks of 100, retrying unprocessed keys. */
  private async batchGet(keyList: readonly { pk: string; sk: string }[]): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    for (let i = 0; i < keyList.length; i += BATCH_GET_LIMIT) {
      let pending = keyList.slice(i, i + BATCH_GET_LIMIT);
      for (let attempt = 1; pending.length > 0; attempt++) {
        const r = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.opts.tableName]: { Keys: pending, ConsistentRead: true } } }),
        );
        out.push(...((r.Responses?.[this.opts.tableName] ?? []) as Record<string, unknown>[]));
        pending = (r.UnprocessedKeys?.[this.opts.tableName]?.Keys ?? []) as typeof pending;
        if (pending.length > 0 && attempt >= MAX_ATTEMPTS)
          throw new Error(`DynamoDB left ${pending.length} rejected-event reads unprocessed`);
        if (pending.length > 0) await new Promise((res) => setTimeout(res, 25 * 2 ** attempt));
      }
    }
    return out;
  }

  async listMatching(matches: PayloadMatcher): Promise<RejectedRecord[]> {
    return (await this.find(matches)).found.map(toRecord);
  }

  async eraseMatching(matches: PayloadMatcher): Promise<number> {
    const { found, entries, stored } = await this.find(matches);
    // Records first, then every index entry of theirs and the entries this lookup read (also
    // those left by an interrupted erasure): an entry without its record is harmless, a record
    // without its entries could not be found again.
    await batchWriteAll(
      this.doc,
      this.opts.tableName,
      found.map((i) => ({ DeleteRequest: { Key: { pk: i.pk, sk: i.sk } } })),
      'rejected-event writes',
    );
    const doomed = new Map<string, { pk: string; sk: string }>();
    const doom = (k: { pk: string; sk: string }) => doomed.set(`${k.pk}\u0000${k.sk}`, k);
    for (const i of found) for (const d of (i.ix as string[] | undefined) ?? []) doom(keys.rejectedIndex(d, i.sk as string));
    const gone = new Set(found.map((i) => i.sk as string));
    for (const e of entries) if (gone.has(e.sk) || !stored.has(e.sk)) doom({ pk: e.pk, sk: e.sk });
    await batchWriteAll(
      this.doc,
      this.opts.tableName,
      [...doomed.values()].map((Key) => ({ DeleteRequest: { Key } })),
      'rejected-event writes',
    );
    return found.length;
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

/** What a record keeps instead of a payload holding more identifier-like values than it can be indexed under. */
export const PAYLOAD_NOT_KEPT = '(payload not kept: it holds more identifier-like values than a record is indexed under)';

function termDigest(term: string): string {
  return createHash('sha256').update(term).digest('hex');
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
