import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { localDynamoConfig, meterCapacity, type MeteredCall } from '../../adapters/dynamo/client';
import { createTestTable, type TestTable } from '../helpers/dynamo';

describe('meterCapacity (DynamoDB Local)', () => {
  let table: TestTable;
  let client: DynamoDBClient;
  let doc: DynamoDBDocumentClient;
  const calls: MeteredCall[] = [];
  let capture = false;

  beforeAll(async () => {
    table = await createTestTable('meter');
    client = new DynamoDBClient(localDynamoConfig(table.endpoint));
    meterCapacity(client, (c) => calls.push(c), { captureBody: () => capture });
    doc = DynamoDBDocumentClient.from(client);
  });
  afterAll(async () => {
    client.destroy();
    await table.drop();
  });
  beforeEach(() => (calls.length = 0));

  test('reports the units of document-client writes and reads, and the items written', async () => {
    await doc.send(new PutCommand({ TableName: table.tableName, Item: { pk: 'm#1', sk: 'a', v: 'x'.repeat(1500) } }));
    await doc.send(new GetCommand({ TableName: table.tableName, Key: { pk: 'm#1', sk: 'a' }, ConsistentRead: true }));
    await doc.send(
      new QueryCommand({ TableName: table.tableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'm#1' } }),
    );
    expect(calls.map((c) => [c.op, c.kind, c.units, c.itemsWritten])).toEqual([
      ['PutItem', 'write', 2, 1], // 1.5 KB: two write units
      ['GetItem', 'read', 1, 0],
      ['Query', 'read', 0.5, 0], // eventually consistent
    ]);
    expect(calls.every((c) => c.body === undefined)).toBe(true);
  });

  test('a failed conditional write counts its billed minimum and nothing written; bodies are captured on request', async () => {
    capture = true;
    await expect(
      doc.send(
        new PutCommand({ TableName: table.tableName, Item: { pk: 'm#1', sk: 'a' }, ConditionExpression: 'attribute_not_exists(pk)' }),
      ),
    ).rejects.toThrow();
    capture = false;
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ op: 'PutItem', units: 1, itemsWritten: 0, conditionFailed: true });
    expect(JSON.parse(calls[0]!.body!)).toMatchObject({ TableName: table.tableName, ReturnConsumedCapacity: 'TOTAL' });
  });

  test('a transaction counts two units per KB of every item it touches (DynamoDB Local reports 2 for all of them)', async () => {
    const t = table.tableName;
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [
          ...Array.from({ length: 18 }, (_, i) => ({ Put: { TableName: t, Item: { pk: `m#t${i}`, sk: 'a', v: 'x'.repeat(100) } } })),
          { Put: { TableName: t, Item: { pk: 'm#big', sk: 'a', v: 'x'.repeat(1500) } } },
          {
            Update: {
              TableName: t,
              Key: { pk: 'm#1', sk: 'a' },
              UpdateExpression: 'SET w = :w',
              ExpressionAttributeValues: { ':w': 1 },
            },
          },
        ],
      }),
    );
    expect(calls.map((c) => [c.op, c.units, c.itemsWritten])).toEqual([['TransactWriteItems', 18 * 2 + 4 + 2, 20]]);
  });
});
