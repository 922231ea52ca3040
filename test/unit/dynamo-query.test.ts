/**
 * queryAll reads every page of a Query: it sends the input again with each LastEvaluatedKey
 * until there is none, and returns the items in order.
 */
import type { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { queryAll } from '../../adapters/dynamo/query';

test('follows LastEvaluatedKey to the last page', async () => {
  const pages = [
    { Items: [{ n: 1 }, { n: 2 }], LastEvaluatedKey: { k: 'a' } },
    { Items: [], LastEvaluatedKey: { k: 'b' } },
    { Items: [{ n: 3 }] },
  ];
  const sent: QueryCommand['input'][] = [];
  const doc = { send: async (cmd: QueryCommand) => pages[sent.push(cmd.input) - 1] } as unknown as DynamoDBDocumentClient;
  const input = { TableName: 't', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'P' } };
  expect(await queryAll(doc, input)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  expect(sent).toEqual([
    { ...input, ExclusiveStartKey: undefined },
    { ...input, ExclusiveStartKey: { k: 'a' } },
    { ...input, ExclusiveStartKey: { k: 'b' } },
  ]);
});
