import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient, localDynamoConfig } from '../../adapters/dynamo/client';
import { ensureTable } from '../../local/dynamodb-local';
import { expectStorageInvariants } from './check';

export interface TestTable {
  readonly endpoint: string;
  readonly tableName: string;
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  /** Checks the storage invariants of the table (`test/helpers/check.ts`), then deletes it; a violation fails the test file. */
  drop(): Promise<void>;
}

export function testEndpoint(): string {
  const endpoint = process.env.SCHERP_TEST_DYNAMO_ENDPOINT;
  if (!endpoint)
    throw new Error('SCHERP_TEST_DYNAMO_ENDPOINT is not set: run integration tests through jest (global setup starts DynamoDB Local)');
  return endpoint;
}

/** A fresh table with a unique name in the suite's DynamoDB Local. */
export async function createTestTable(prefix = 'test'): Promise<TestTable> {
  const endpoint = testEndpoint();
  const tableName = `${prefix}-${randomBytes(6).toString('hex')}`;
  const client = new DynamoDBClient(localDynamoConfig(endpoint));
  await ensureTable(client, tableName);
  const doc = documentClient(localDynamoConfig(endpoint));
  return {
    endpoint,
    tableName,
    client,
    doc,
    drop: async () => {
      let failure: unknown;
      try {
        await expectStorageInvariants(endpoint, tableName);
      } catch (err) {
        failure = err;
      }
      await client.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
      client.destroy();
      doc.destroy();
      if (failure) throw failure;
    },
  };
}

/** Polls until `check` returns a value (not undefined) or the time runs out. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Every item of a table (all pages, strongly consistent): for tests that look at the whole table. */
export async function scanTable(doc: DynamoDBDocumentClient, tableName: string): Promise<Record<string, any>[]> {
  const items: Record<string, any>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}
