import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchWriteAll } from '../../adapters/dynamo/batch-write';

/** A client double: answers each BatchWriteItem with the requests it leaves unprocessed. */
function client(unprocessed: (requests: unknown[], call: number) => unknown[]) {
  const calls: number[] = [];
  const doc = {
    send: async (cmd: { input: { RequestItems: Record<string, unknown[]> } }) => {
      const requests = cmd.input.RequestItems.t!;
      calls.push(requests.length);
      const left = unprocessed(requests, calls.length);
      return { UnprocessedItems: left.length ? { t: left } : {} };
    },
  } as unknown as DynamoDBDocumentClient;
  return { doc, calls };
}

const puts = (n: number) => Array.from({ length: n }, (_, i) => ({ PutRequest: { Item: { pk: `p${i}`, sk: 's' } } }));

test('writes in chunks of 25 and retries what DynamoDB left unprocessed', async () => {
  const { doc, calls } = client((requests, call) => (call === 1 ? requests.slice(0, 3) : []));
  await batchWriteAll(doc, 't', puts(30), 'test writes');
  expect(calls).toEqual([25, 3, 5]);
});

test('throws, naming what, when requests stay unprocessed after the last attempt', async () => {
  const { doc, calls } = client((requests) => requests.slice(0, 1));
  await expect(batchWriteAll(doc, 't', puts(2), 'test writes', 3)).rejects.toThrow('DynamoDB left 1 test writes unprocessed');
  expect(calls).toEqual([2, 1, 1]);
});
