/**
 * No stream record is lost unevaluated. A record evaluate keeps failing on goes, as in the
 * cloud, to the failure destination with sequence numbers only; evaluate noted its item's key in
 * the table, so a replay evaluates it again from the item and its actions fire. An age limit, when
 * one is set (the construct's `evaluateMaxRecordAge`), sends old records there unevaluated.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { localDynamoConfig } from '../../adapters/dynamo/client';
import { DynamoEvaluationFailures } from '../../adapters/dynamo/evaluation-failures';
import type { Runtime } from '../../local/runtime';
import { eventually } from '../helpers/dynamo';
import { basic } from '../helpers/http';
import { startTestRuntime } from '../helpers/runtime';

const uid = (n: string) => `${n}-${Math.random().toString(16).slice(2, 8)}`;

async function track(rt: Runtime, userId: string, event: string, properties: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${rt.url}/v1/track`, {
    method: 'POST',
    headers: { authorization: basic(rt.keys.write), 'content-type': 'application/json' },
    body: JSON.stringify({ userId, event, properties }),
  });
  expect(res.status).toBe(200);
}

const failuresOf = (rt: Runtime) => {
  const file = join(rt.dataDir, 'stream-failures.jsonl');
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
    : [];
};

describe('a record evaluate gives up on', () => {
  let rt: Runtime;
  let client: DynamoDBClient;
  beforeAll(async () => {
    // Every PutEvents fails: evaluate fails on each event that fires an action.
    rt = await startTestRuntime('stream-failures', { faults: { busFailure: 1, seed: 7 }, streamMaxRetries: 1 });
    client = new DynamoDBClient(localDynamoConfig(rt.dynamoEndpoint));
  });
  afterAll(async () => {
    client.destroy();
    await rt.stop();
  });

  it('reaches the failure log as sequence numbers only, is noted in the table by key, and a replay evaluates it from its item', async () => {
    const user = uid('order');
    await track(rt, user, 'Order Completed', { revenue: 150, order_id: 'o-1' });
    const [failure] = await eventually(() => (failuresOf(rt).length > 0 ? failuresOf(rt) : undefined), 30_000);
    // What the mapping's on-failure destination gets: no record, no content.
    expect(failure).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted' },
      DDBStreamBatchInfo: { startSequenceNumber: expect.any(String), batchSize: 1 },
    });
    expect(JSON.stringify(failure)).not.toContain(user);
    expect(JSON.stringify(failure)).not.toContain('NewImage');

    const notes = new DynamoEvaluationFailures(DynamoDBDocumentClient.from(client), rt.tableName);
    const noted = await notes.list();
    expect(noted.map((n) => n.sequenceNumber)).toContain(failure.DDBStreamBatchInfo.startSequenceNumber);

    // The bus works again: the replay publishes what the failed evaluation could not.
    rt.faults!.plan = {};
    const result = await rt.replayStreamFailures();
    expect(result).toMatchObject({ replayed: noted.length, failed: 0 });
    const hit = rt.bus.delivered.find((e) => e['detail-type'] === 'Action Triggered' && e.detail.ruleId === 'high-value-order');
    expect(hit?.detail).toMatchObject({ action: 'High Value Order', data: { revenue: 150, orderId: 'o-1' } });
    expect(await notes.list()).toEqual([]);
  });
});

describe('with an age limit (evaluateMaxRecordAge)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await startTestRuntime('stream-age', { streamMaxRecordAgeMs: 1 });
  });
  afterAll(() => rt.stop());

  it('older records go to the failure log unevaluated, as the mapping sends them (RecordAgeExceeded)', async () => {
    const user = uid('old');
    await track(rt, user, 'Order Completed', { revenue: 150, order_id: 'o-2' });
    const [failure] = await eventually(() => (failuresOf(rt).length > 0 ? failuresOf(rt) : undefined), 30_000);
    expect(failure).toMatchObject({ requestContext: { condition: 'RecordAgeExceeded' } });
    expect(rt.bus.delivered.filter((e) => e['detail-type'] === 'Action Triggered')).toEqual([]);
  });
});
