/**
 * Timelines for history conditions and backtests: one Query per profile (the survivor and
 * every profile merged into it), the stored events decoded from `d`.
 */
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ScherpEvent } from '../../core/events';
import type { HistoryStore } from '../../app/ports';
import { decodeEvent } from './event-codec';
import { keys, PROFILE_SK_PREFIX } from './keys';
import { queryAll } from './query';

/**
 * How far before a window a history read starts: a sender whose clock is off by more than this
 * has events near the window's start placed outside the range read.
 */
export const POSITION_SKEW_MARGIN_MS = 86_400_000;

export class DynamoHistoryStore implements HistoryStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async load(profileIds: readonly string[], sinceIso: string): Promise<ScherpEvent[]> {
    const all = await Promise.all([...new Set(profileIds)].map((id) => this.loadOne(id, sinceIso)));
    return all.flat();
  }

  private async loadOne(profileId: string, sinceIso: string): Promise<ScherpEvent[]> {
    // Timeline keys carry the sender's stated time (`timelineTime`), which can be off its
    // corrected timestamp by the sender's clock skew: read a margin earlier, keep by timestamp.
    const since = Date.parse(sinceIso);
    const from = Number.isNaN(since) ? sinceIso : new Date(since - POSITION_SKEW_MARGIN_MS).toISOString();
    const range = keys.eventsSince(profileId, from);
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': range.pk, ':from': range.from, ':to': range.to },
      ProjectionExpression: 'd',
    });
    return items.map((it) => decodeEvent(it as { d: Uint8Array })).filter((e) => !(Date.parse(e.timestamp) < since));
  }

  async listProfileIds(cursor?: string): Promise<{ ids: string[]; cursor?: string }> {
    const res = await this.doc.send(
      new ScanCommand({
        TableName: this.tableName,
        FilterExpression: 'sk = :sk AND attribute_not_exists(mergedInto)',
        ExpressionAttributeValues: { ':sk': PROFILE_SK_PREFIX },
        ProjectionExpression: 'id',
        ExclusiveStartKey: cursor ? (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>) : undefined,
      }),
    );
    return {
      ids: (res.Items ?? []).map((i) => i.id as string),
      cursor: res.LastEvaluatedKey ? Buffer.from(JSON.stringify(res.LastEvaluatedKey)).toString('base64url') : undefined,
    };
  }
}
