/**
 * Poison and failing events: they reach the dead-letter queue with their reason after the
 * receive limit, never block the events behind them, and a redrive replays them idempotently.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Runtime } from '../../local/runtime';
import { startTestRuntime } from '../helpers/runtime';
import { createTestTable, eventually, type TestTable } from '../helpers/dynamo';
import { apiClient } from '../helpers/http';

let t: TestTable;
let rt: Runtime;

beforeAll(async () => {
  t = await createTestTable('dlq');
  rt = await startTestRuntime('dlq', {
    dynamoEndpoint: t.endpoint,
    tableName: t.tableName,
    keys: { write: 'dl-write', read: 'dl-read', admin: 'dl-admin' },
    queue: { maxReceives: 3, retryDelayMs: 10 },
    faults: {},
  });
});
afterAll(async () => {
  await rt.stop();
  await t.drop();
});

const { post, get } = apiClient(() => rt);

async function eventItems(): Promise<string[]> {
  const r = await t.doc.send(new ScanCommand({ TableName: t.tableName }));
  return (r.Items ?? []).filter((i) => String(i.sk).startsWith('EV#')).map((i) => i.mid as string);
}

it('a poison message is dead-lettered with its reason and does not block the rest', async () => {
  await rt.queue.sendBodies(['{not json']);
  const res = await post('/v1/track', { userId: 'dl-1', event: 'After Poison', messageId: 'after-poison' });
  expect(res.status).toBe(200);
  await eventually(async () => ((await eventItems()).includes('after-poison') ? true : undefined));
  const letters = await eventually(async () => {
    const l = await rt.deadLetters.list();
    return l.length === 1 ? l : undefined;
  });
  expect(letters[0]).toMatchObject({ receiveCount: 3, event: undefined });
  expect(letters[0]!.reason).toMatch(/^SyntaxError: .*JSON/);
});

it('events that failed on a broken store are redriven once it is healthy, and a double replay stores them once', async () => {
  rt.faults!.plan = { crash: 1 }; // every write dies: nothing can be stored
  const ids = ['dl-a', 'dl-b', 'dl-c'];
  const res = await post('/v1/batch', { batch: ids.map((messageId) => ({ type: 'track', userId: 'dl-2', event: 'Retried', messageId })) });
  expect(res.status).toBe(200);
  const letters = await eventually(async () => {
    const l = (await rt.deadLetters.list()).filter((x) => x.event?.messageId?.startsWith('dl-'));
    return l.length === 3 ? l : undefined;
  });
  expect(letters.map((l) => l.event!.messageId).sort()).toEqual(ids);
  expect(letters[0]!.reason).toBe('InjectedCrash: injected crash after a write');

  rt.faults!.plan = {};
  const raw = readFileSync(join(rt.dataDir, 'dlq.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { messageId: string; body: string });
  const bodies = raw.filter((l) => letters.some((x) => x.id === l.messageId)).map((l) => l.body);
  const before = (await rt.deadLetters.list()).length;
  expect(await rt.deadLetters.redrive(letters.map((l) => l.id))).toBe(3);
  expect((await rt.deadLetters.list()).length).toBe(before - 3);
  await eventually(async () => {
    const have = await eventItems();
    return ids.every((i) => have.includes(i)) && rt.queue.depth === 0 ? true : undefined;
  });
  // An operator replaying the same letters again changes nothing.
  await rt.queue.sendBodies(bodies);
  await eventually(async () => (rt.queue.depth === 0 ? true : undefined));
  const profileEvents = await t.doc.send(
    new QueryCommand({
      TableName: t.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :ev)',
      ExpressionAttributeValues: { ':pk': `P#${await profileOf('dl-2')}`, ':ev': 'EV#' },
    }),
  );
  expect(profileEvents.Items!.map((i) => i.mid).sort()).toEqual(ids);
});

async function profileOf(userId: string): Promise<string> {
  const r = await get(`/v1/profiles/user_id:${userId}`);
  return ((await r.json()) as { id: string }).id;
}
