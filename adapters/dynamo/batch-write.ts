import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Most requests one BatchWriteItem takes. */
export const BATCH_WRITE_LIMIT = 25;

/**
 * BatchWriteItem of any number of put/delete requests: chunks of 25, unprocessed requests
 * retried with exponential backoff (DynamoDB returns them under load); throws, naming `what`,
 * when some are still unprocessed after `maxAttempts`, so a caller never believes a half write.
 */
export async function batchWriteAll(
  doc: DynamoDBDocumentClient,
  tableName: string,
  requests: readonly Record<string, unknown>[],
  what: string,
  maxAttempts = 8,
): Promise<void> {
  for (let i = 0; i < requests.length; i += BATCH_WRITE_LIMIT) {
    let pending = requests.slice(i, i + BATCH_WRITE_LIMIT);
    for (let attempt = 1; pending.length > 0; attempt++) {
      const r = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = (r.UnprocessedItems?.[tableName] ?? []) as typeof pending;
      if (pending.length > 0 && attempt >= maxAttempts) throw new Error(`DynamoDB left ${pending.length} ${what} unprocessed`);
      if (pending.length > 0) await new Promise((res) => setTimeout(res, Math.min(1000, 25 * 2 ** attempt)));
    }
  }
}
