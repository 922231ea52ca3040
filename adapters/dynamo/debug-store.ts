/**
 * The live debugger's items (`core/debug.ts`): the session marker `DBG#SESSION` and the entries,
 * one hour partition each (`DBG#<yyyy-mm-ddThh>`, sort key the entry id), every item with a TTL.
 * Entries hold the entry as JSON text (`e`): no profile keys, nothing the stream filter passes
 * (`EV#`/`MERGE#`), so evaluate never sees them. Erasure reaches them (`eraseSubject`): it reads
 * the hour partitions an entry may still be stored in (kept, or expired and awaiting deletion).
 */
import { batchWriteAll } from './batch-write';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CopyStore, DebugStore, ErasureSubject } from '../../app/ports';
import { DEBUG_ENTRY_TTL_SECONDS, type DebugEntry } from '../../core/debug';
import { keys, TTL_ATTRIBUTE } from './keys';
import { queryAll, queryPages } from './query';
import { TTL_LAG_DAYS } from './rejected-store';

const HOUR_MS = 3_600_000;

export interface DynamoDebugStoreOptions {
  readonly tableName: string;
  readonly now?: () => number;
}

export class DynamoDebugStore implements DebugStore, CopyStore {
  readonly name = 'debug entries';
  private readonly now: () => number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly opts: DynamoDebugStoreOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  async sessionExpiry(): Promise<number | undefined> {
    // Eventually consistent (half a read unit): a session shows within a second or so anyway.
    const r = await this.doc.send(
      new GetCommand({ TableName: this.opts.tableName, Key: keys.debugSession(), ProjectionExpression: 'expiresAt' }),
    );
    const at = r.Item?.expiresAt;
    return typeof at === 'number' && at > this.now() ? at : undefined;
  }

  async openSession(expiresAt: number): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.opts.tableName,
        Item: { ...keys.debugSession(), expiresAt, [TTL_ATTRIBUTE]: Math.ceil(expiresAt / 1000) },
      }),
    );
  }

  async save(entries: readonly DebugEntry[], expiresAt: number): Promise<void> {
    const ttl = Math.ceil(expiresAt / 1000);
    const requests = entries.map((e) => ({
      PutRequest: { Item: { pk: keys.debugHour(e.receivedAt), sk: e.id, e: JSON.stringify(e), [TTL_ATTRIBUTE]: ttl } },
    }));
    await batchWriteAll(this.doc, this.opts.tableName, requests, 'debug writes');
  }

  async list(opts: {
    readonly since?: string;
    readonly limit: number;
    readonly filter: (e: DebugEntry) => boolean;
  }): Promise<DebugEntry[]> {
    const now = this.now();
    const out: DebugEntry[] = [];
    const oldest = now - DEBUG_ENTRY_TTL_SECONDS * 1000;
    const from =
      opts.since !== undefined && opts.since > new Date(oldest).toISOString() ? Date.parse(`${opts.since.slice(0, 13)}:00:00Z`) : oldest;
    for (let h = Math.floor(now / HOUR_MS) * HOUR_MS; h >= Math.floor(from / HOUR_MS) * HOUR_MS && out.length < opts.limit; h -= HOUR_MS) {
      const pk = keys.debugHour(new Date(h).toISOString());
      const since = opts.since;
      for await (const page of queryPages(this.doc, {
        TableName: this.opts.tableName,
        KeyConditionExpression: since !== undefined ? 'pk = :pk AND sk > :since' : 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk, ...(since !== undefined ? { ':since': since } : {}) },
        ScanIndexForward: false,
      })) {
        for (const item of page) {
          if (typeof item[TTL_ATTRIBUTE] === 'number' && item[TTL_ATTRIBUTE] * 1000 <= now) continue;
          const e = JSON.parse(item.e as string) as DebugEntry;
          if (opts.filter(e)) out.push(e);
          if (out.length >= opts.limit) break;
        }
        if (out.length >= opts.limit) break;
      }
    }
    return out;
  }

  /** Deletes every stored entry (kept, or expired and not yet removed by DynamoDB) naming the subject. */
  async eraseSubject(subject: ErasureSubject): Promise<number> {
    const now = this.now();
    const oldest = now - DEBUG_ENTRY_TTL_SECONDS * 1000 - TTL_LAG_DAYS * 24 * HOUR_MS;
    const doomed: { pk: string; sk: string }[] = [];
    for (let h = Math.floor(now / HOUR_MS) * HOUR_MS; h >= Math.floor(oldest / HOUR_MS) * HOUR_MS; h -= HOUR_MS) {
      const items = await queryAll(this.doc, {
        TableName: this.opts.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.debugHour(new Date(h).toISOString()) },
        ConsistentRead: true,
      });
      for (const i of items)
        if (typeof i.e === 'string' && entryNames(i.e, subject.matches)) doomed.push({ pk: i.pk as string, sk: i.sk as string });
    }
    await batchWriteAll(
      this.doc,
      this.opts.tableName,
      doomed.map((Key) => ({ DeleteRequest: { Key } })),
      'debug writes',
    );
    return doomed.length;
  }
}

/** The entry's payload (JSON inside the entry's JSON) and the entry itself are what may name someone. */
function entryNames(text: string, matches: (t: string) => boolean): boolean {
  if (matches(text)) return true;
  try {
    const payload = (JSON.parse(text) as { payload?: unknown }).payload;
    return typeof payload === 'string' && matches(payload);
  } catch {
    return false;
  }
}
