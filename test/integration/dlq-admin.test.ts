/**
 * The dead-letter admin API (`GET /v1/dlq`, `POST /v1/dlq/redrive`, admin key) on the local
 * runtime, and `scherp dlq` talking to it while the runtime runs.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Runtime } from '../../local/runtime';
import { startTestRuntime } from '../helpers/runtime';
import { createTestTable, eventually, type TestTable } from '../helpers/dynamo';
import { apiClient, bearer } from '../helpers/http';

const root = join(__dirname, '../..');
let t: TestTable;
let rt: Runtime;
const keys = { write: 'dlqa-write', read: 'dlqa-read', admin: 'dlqa-admin' };
const admin = bearer(keys.admin);

beforeAll(async () => {
  t = await createTestTable('dlqa');
  rt = await startTestRuntime('dlqa', {
    dynamoEndpoint: t.endpoint,
    tableName: t.tableName,
    keys,
    queue: { maxReceives: 2, retryDelayMs: 10 },
    faults: {},
  });
});
afterAll(async () => {
  await rt.stop();
  await t.drop();
});

const { call, post } = apiClient(() => rt);

async function stored(messageId: string): Promise<boolean> {
  const r = await t.doc.send(new ScanCommand({ TableName: t.tableName }));
  return (r.Items ?? []).some((i) => String(i.sk).startsWith('EV#') && String(i.sk).endsWith(`#${messageId}`));
}

async function deadLetter(messageId: string): Promise<string> {
  rt.faults!.plan = { crash: 1 };
  const res = await post('/v1/track', { userId: 'dlqa-1', event: 'Failing', messageId });
  expect(res.status).toBe(200);
  const letter = await eventually(async () => (await rt.deadLetters.list()).find((l) => l.event?.messageId === messageId));
  rt.faults!.plan = {};
  return letter.id;
}

it('lists dead letters with their reason and redrives chosen ones; admin key only; bad bodies name the field', async () => {
  const id = await deadLetter('dlqa-api');
  expect((await call('GET', '/v1/dlq')).status).toBe(401);
  expect((await call('GET', '/v1/dlq', bearer(keys.write))).status).toBe(401);
  const list = await call('GET', '/v1/dlq', admin);
  expect(list.status).toBe(200);
  const { deadLetters } = list.body as { deadLetters: { id: string; reason: string; event: { messageId: string } }[] };
  expect(deadLetters).toEqual([
    expect.objectContaining({
      id,
      reason: 'InjectedCrash: injected crash after a write',
      event: expect.objectContaining({ messageId: 'dlqa-api' }),
    }),
  ]);
  expect(JSON.stringify(deadLetters)).not.toContain('dlqa-1'); // no payload, no identifiers

  const bad = await call('POST', '/v1/dlq/redrive', admin, { ids: 'all' });
  expect(bad.status).toBe(400);
  expect(JSON.stringify(bad.body)).toContain('ids');
  expect((await call('GET', '/v1/dlq?limit=0', admin)).status).toBe(400);

  const redrive = await call('POST', '/v1/dlq/redrive', admin, { ids: [id] });
  expect(redrive.body).toEqual({ redriven: 1 });
  await eventually(async () => ((await stored('dlqa-api')) ? true : undefined));
  expect(await rt.deadLetters.list()).toEqual([]);
  // Redriving again finds nothing to move.
  const again = await call('POST', '/v1/dlq/redrive', admin);
  expect(again.body).toEqual({ redriven: 0 });
});

it('`scherp dlq list|redrive --url` works against the running runtime', async () => {
  await deadLetter('dlqa-cli');
  const cli = (...args: string[]) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', join(root, 'local/cli.ts'), 'dlq', ...args, '--url', rt.url], {
      cwd: root,
      env: { ...process.env, SCHERP_ADMIN_KEY: keys.admin },
    });
  const listed = await cli('list');
  expect(listed.stdout).toContain('dlqa-cli');
  expect((await cli('redrive')).stdout).toBe('redriven: 1\n');
  await eventually(async () => ((await stored('dlqa-cli')) ? true : undefined));
});
