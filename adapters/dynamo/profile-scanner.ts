/**
 * The profile roots of the table, one DynamoDB parallel-scan segment a page at a time (for jobs):
 * the root and part items (`sk` `PROFILE…`) come back, so a page's live profiles are decoded
 * whole (a profile cut by the page's end is listed, not decoded: its worker reads it).
 */
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ProfileScanner, ProfileWithParts, ScanPage } from '../../app/ports';
import { decodeParts } from './personalization-store';
import { profileFromItem } from './profile-store';
import { ValidationError } from '../../core/errors';
import { PROFILE_SK_PREFIX } from './keys';

const encode = (k: Record<string, unknown>) => Buffer.from(JSON.stringify(k)).toString('base64url');

function decode(cursor: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new ValidationError('not a scan cursor', [{ path: 'cursor', message: 'must be a cursor a scan returned' }]);
  }
}

export class DynamoProfileScanner implements ProfileScanner {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async scanSegment(segment: number, totalSegments: number, cursor: string | undefined, limit: number): Promise<ScanPage> {
    const res = await this.doc.send(
      new ScanCommand({
        TableName: this.tableName,
        Segment: segment,
        TotalSegments: totalSegments,
        Limit: limit,
        // The roots and their parts (`PROFILE`, `PROFILE#…`): a backfill reads nothing more for them.
        FilterExpression: 'begins_with(sk, :sk)',
        ExpressionAttributeValues: { ':sk': PROFILE_SK_PREFIX },
        ReturnConsumedCapacity: 'TOTAL',
        ...(cursor ? { ExclusiveStartKey: decode(cursor) } : {}),
      }),
    );
    const profileIds: string[] = [];
    const corrupt: string[] = [];
    const byPk = new Map<string, Record<string, unknown>[]>();
    for (const it of res.Items ?? []) {
      const pk = String(it.pk);
      const list = byPk.get(pk);
      if (list) list.push(it);
      else byPk.set(pk, [it]);
    }
    // The page's last partition may continue on the next page: its parts are read again then.
    const lastPk = res.LastEvaluatedKey ? String(res.LastEvaluatedKey.pk) : undefined;
    const loaded = new Map<string, ProfileWithParts>();
    for (const [pk, items] of byPk) {
      const root = items.find((i) => i.sk === PROFILE_SK_PREFIX);
      if (!root) continue; // parts of a root read on the previous page
      if (root.mergedInto !== undefined) continue;
      if (typeof root.id !== 'string' || root.id.length === 0) {
        corrupt.push(`${pk}/${PROFILE_SK_PREFIX}`);
        continue;
      }
      profileIds.push(root.id);
      if (pk === lastPk) continue;
      try {
        loaded.set(root.id, { stored: profileFromItem(root), parts: decodeParts(items) });
      } catch {
        corrupt.push(`${pk}/${PROFILE_SK_PREFIX}`);
        profileIds.pop();
      }
    }
    return {
      profileIds,
      ...(res.LastEvaluatedKey ? { cursor: encode(res.LastEvaluatedKey) } : {}),
      units: res.ConsumedCapacity?.CapacityUnits ?? Math.max(1, (res.ScannedCount ?? 0) / 8),
      corrupt,
      loaded,
    };
  }
}
