/**
 * The profile roots of the table, one DynamoDB parallel-scan segment a page at a time (for jobs):
 * only root items (`sk = PROFILE`) of live profiles come back, projected to their id.
 */
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ProfileScanner, ScanPage } from '../../app/ports';
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
        FilterExpression: 'sk = :sk AND attribute_not_exists(mergedInto)',
        ExpressionAttributeValues: { ':sk': PROFILE_SK_PREFIX },
        ProjectionExpression: 'pk, id',
        ReturnConsumedCapacity: 'TOTAL',
        ...(cursor ? { ExclusiveStartKey: decode(cursor) } : {}),
      }),
    );
    const profileIds: string[] = [];
    const corrupt: string[] = [];
    for (const it of res.Items ?? []) {
      if (typeof it.id === 'string' && it.id.length > 0) profileIds.push(it.id);
      else corrupt.push(`${String(it.pk)}/${PROFILE_SK_PREFIX}`);
    }
    return {
      profileIds,
      ...(res.LastEvaluatedKey ? { cursor: encode(res.LastEvaluatedKey) } : {}),
      units: res.ConsumedCapacity?.CapacityUnits ?? Math.max(1, (res.ScannedCount ?? 0) / 8),
      corrupt,
    };
  }
}
