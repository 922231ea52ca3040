/**
 * The one place that tells a refused condition from other DynamoDB failures. A single-item write
 * refused by its condition raises `ConditionalCheckFailedException`; a transaction is cancelled
 * with `TransactionCanceledException` and one reason per item (`None` for the items that were
 * fine). Only a cancellation whose reasons are condition failures is a condition failure: one
 * cancelled for throttling, capacity, validation or a conflicting transaction is an error the
 * caller must see (a retryable 500), not an answer ("no such source", "name taken").
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** The cancellation reason codes of a cancelled transaction (`None` for a missing code); undefined for any other error. */
function cancellationCodes(err: unknown): string[] | undefined {
  const e = err as { name?: string; CancellationReasons?: { Code?: string }[] } | null;
  if (e?.name !== 'TransactionCanceledException') return undefined;
  return (e.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
}

/** Every reason is one of `allowed` or `None`, and at least one is not `None`. */
function cancelledOnlyFor(codes: readonly string[], allowed: readonly string[]): boolean {
  return codes.some((c) => c !== 'None') && codes.every((c) => c === 'None' || allowed.includes(c));
}

/**
 * True when a write was refused by its condition expression: `ConditionalCheckFailedException`,
 * or a transaction cancelled for `ConditionalCheckFailed` only.
 */
export function isConditionFailure(err: unknown): boolean {
  if (err instanceof ConditionalCheckFailedException || (err as { name?: string } | null)?.name === 'ConditionalCheckFailedException')
    return true;
  const codes = cancellationCodes(err);
  return codes !== undefined && cancelledOnlyFor(codes, ['ConditionalCheckFailed']);
}

/**
 * True when a transaction lost to another request on the same items (`TransactionConflict`,
 * or `TransactionConflictException`) and nothing else went wrong: nothing was written, and the
 * same transaction may be sent again.
 */
export function isTransactionConflict(err: unknown): boolean {
  if ((err as { name?: string } | null)?.name === 'TransactionConflictException') return true;
  const codes = cancellationCodes(err);
  return (
    codes !== undefined &&
    codes.includes('TransactionConflict') &&
    cancelledOnlyFor(codes, ['TransactionConflict', 'ConditionalCheckFailed'])
  );
}

/**
 * A transaction that lost to a condition or to a concurrent transaction on the same items: the
 * caller re-reads and tries again. Other cancellations (throttling, validation) are errors.
 */
export function isConditionOrConflict(err: unknown): boolean {
  return isConditionFailure(err) || isTransactionConflict(err);
}

/**
 * Puts a whole small item if its stored `ver` is still `expectedVersion` (0: it must not exist
 * yet), writing `ver = expectedVersion + 1`; false on a conflict.
 */
export async function putVersioned(
  doc: DynamoDBDocumentClient,
  tableName: string,
  key: { pk: string; sk: string },
  attrs: Record<string, unknown>,
  expectedVersion: number,
): Promise<boolean> {
  try {
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...key, ...attrs, ver: expectedVersion + 1 },
        ...(expectedVersion === 0
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: 'ver = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}
