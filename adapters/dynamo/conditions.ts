import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** True when a write was refused by its condition expression. */
export function isConditionFailure(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException || (err as { name?: string })?.name === 'ConditionalCheckFailedException';
}

/**
 * Puts a whole small item if its stored `ver` is still `expectedVersion` (0: it must not exist
 * yet), writing `ver = expectedVersion + 1`; false on a conflict.
 */
export async function putVersioned(doc: DynamoDBDocumentClient, tableName: string, key: { pk: string; sk: string }, attrs: Record<string, unknown>, expectedVersion: number): Promise<boolean> {
  try {
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...key, ...attrs, ver: expectedVersion + 1 },
        ...(expectedVersion === 0 ? { ConditionExpression: 'attribute_not_exists(pk)' } : { ConditionExpression: 'ver = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}
