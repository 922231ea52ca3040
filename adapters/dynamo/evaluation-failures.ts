/**
 * Stream records `evaluate` failed on, kept in the table so none is lost unevaluated: the
 * stream mapping's failure queue receives only the shard and sequence numbers (and the stream
 * keeps records for 24 hours), so on every failed attempt evaluate also writes a marker with the
 * failed item's key. A replay reads each marker's item (the record's content: a timeline event
 * or merge record, kept until its TTL), evaluates it as the stream would and deletes the marker.
 * Markers sit in the item's own partition: erasing the profile erases them.
 */
import { DeleteCommand, GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { EVAL_FAILURE_SK_PREFIX, keys, TTL_ATTRIBUTE } from './keys';

/** Markers outlive the failure queue's 14 days by a little; the item's own TTL bounds the content. */
const MARKER_TTL_SECONDS = 15 * 24 * 3600;

export interface EvaluationFailure {
  /** The failed item's key. */
  readonly pk: string;
  readonly itemSk: string;
  readonly sequenceNumber: string;
  readonly reason: string;
  readonly at: string;
}

export class DynamoEvaluationFailures {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Notes the failed record (the same record again overwrites its marker). */
  async record(rec: DynamoDBRecord, reason: string): Promise<void> {
    const pk = rec.dynamodb?.Keys?.pk?.S;
    const sk = rec.dynamodb?.Keys?.sk?.S;
    const seq = rec.dynamodb?.SequenceNumber;
    if (!pk || !sk || !seq) return;
    const at = this.now();
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.evaluationFailure(pk, seq),
          itemSk: sk,
          sequenceNumber: seq,
          reason: reason.slice(0, 500),
          at: at.toISOString(),
          [TTL_ATTRIBUTE]: Math.floor(at.getTime() / 1000) + MARKER_TTL_SECONDS,
        },
      }),
    );
  }

  /** Every marker (a scan of the table: a rare operator action). */
  async list(): Promise<EvaluationFailure[]> {
    const out: EvaluationFailure[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.doc.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'begins_with(sk, :p)',
          ExpressionAttributeValues: { ':p': EVAL_FAILURE_SK_PREFIX },
          ExclusiveStartKey: start,
        }),
      );
      for (const it of r.Items ?? [])
        out.push({ pk: it.pk, itemSk: it.itemSk, sequenceNumber: it.sequenceNumber, reason: it.reason, at: it.at });
      start = r.LastEvaluatedKey;
    } while (start);
    return out.sort((a, b) => (a.sequenceNumber < b.sequenceNumber ? -1 : 1));
  }

  /** The failed record rebuilt from its item, as the stream delivered it; undefined when the item is gone. */
  async streamRecord(f: EvaluationFailure): Promise<DynamoDBRecord | undefined> {
    const r = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: f.pk, sk: f.itemSk }, ConsistentRead: true }));
    if (!r.Item) return undefined;
    return {
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      dynamodb: {
        Keys: marshall({ pk: f.pk, sk: f.itemSk }) as never,
        NewImage: marshall(r.Item, { removeUndefinedValues: true }) as never,
        SequenceNumber: f.sequenceNumber,
      },
    };
  }

  async remove(f: EvaluationFailure): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: keys.evaluationFailure(f.pk, f.sequenceNumber) }));
  }
}
