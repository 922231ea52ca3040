/**
 * `GET /v1/health`: queue depths from SQS's GetQueueAttributes (each queue and its dead-letter
 * queue), the HEALTH_QUEUES setting, and the failure markers read only when a queue holds failures.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { parseMonitoredQueues, SqsQueueMonitor } from '../../adapters/sqs-queue-monitor';
import { readHealth } from '../../app/health';
import { MAX_RECENT_ERRORS } from '../../core/health';
import { createRulesHandler } from '../../lambdas/rules';

function fakeSqs(depths: Record<string, [number, number]>) {
  const asked: { url: string; names: string[] }[] = [];
  const client = {
    send: async (cmd: { constructor: { name: string }; input: any }) => {
      expect(cmd.constructor.name).toBe('GetQueueAttributesCommand');
      asked.push({ url: cmd.input.QueueUrl, names: cmd.input.AttributeNames });
      const [visible, inFlight] = depths[cmd.input.QueueUrl] ?? [0, 0];
      return { Attributes: { ApproximateNumberOfMessages: String(visible), ApproximateNumberOfMessagesNotVisible: String(inFlight) } };
    },
  };
  return { client: client as unknown as SQSClient, asked };
}

it('reads each queue and its dead-letter queue with GetQueueAttributes', async () => {
  const { client, asked } = fakeSqs({ 'https://q/ingest': [7, 3], 'https://q/ingest-dlq': [2, 0], 'https://q/stream-failures': [1, 1] });
  const monitor = new SqsQueueMonitor(
    client,
    parseMonitoredQueues(
      JSON.stringify([
        { name: 'ingest', url: 'https://q/ingest', deadLetterUrl: 'https://q/ingest-dlq' },
        { name: 'evaluate-stream-failures', deadLetterUrl: 'https://q/stream-failures' },
      ]),
    ),
  );
  await expect(monitor.depths()).resolves.toEqual([
    { name: 'ingest', visible: 7, inFlight: 3, deadLetters: 2 },
    { name: 'evaluate-stream-failures', visible: 0, inFlight: 0, deadLetters: 2 },
  ]);
  expect(asked.map((a) => a.url).sort()).toEqual(['https://q/ingest', 'https://q/ingest-dlq', 'https://q/stream-failures']);
  for (const a of asked) expect(a.names).toEqual(['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible']);
  expect(parseMonitoredQueues(undefined)).toEqual([]);
  expect(() => parseMonitoredQueues('{"name":"x"}')).toThrow(/array/);
  expect(() => parseMonitoredQueues('[{"url":"x"}]')).toThrow(/name/);
});

it('reads the failure markers only when a queue holds failures, newest first, bounded, without profile keys', async () => {
  let listed = 0;
  const failures = {
    list: async () => {
      listed++;
      return Array.from({ length: MAX_RECENT_ERRORS + 5 }, (_, i) => ({
        pk: 'P#person',
        at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
        reason: `boom ${i}`,
        sequenceNumber: String(i),
      }));
    },
  };
  const healthy = { depths: async () => [{ name: 'ingest', visible: 4, inFlight: 1, deadLetters: 0 }] };
  await expect(readHealth({ queues: healthy, failures })).resolves.toEqual({ queues: await healthy.depths(), recentErrors: [] });
  expect(listed).toBe(0);
  const failing = { depths: async () => [{ name: 'evaluate-stream-failures', visible: 0, inFlight: 0, deadLetters: 1 }] };
  const h = await readHealth({ queues: failing, failures });
  expect(listed).toBe(1);
  expect(h.recentErrors).toHaveLength(MAX_RECENT_ERRORS);
  expect(h.recentErrors[0]).toEqual({ at: '2026-01-01T00:54:00.000Z', stage: 'evaluate', reason: 'boom 54', sequenceNumber: '54' });
  expect(JSON.stringify(h)).not.toContain('P#person');
});

it('serves GET /v1/health to the admin key only', async () => {
  const handler = createRulesHandler(() => ({
    keys: {
      authenticate: async (kind: string, key: string) => (kind === 'admin' && key === 'adm' ? { kind: 'admin' } : undefined),
    } as never,
    rules: {} as never,
    store: {} as never,
    parts: {} as never,
    history: {} as never,
    members: {} as never,
    health: {
      queues: { depths: async () => [{ name: 'ingest', visible: 1, inFlight: 0, deadLetters: 0 }] },
      failures: { list: async () => [] },
    },
  }));
  const req = (key: string) =>
    handler({
      routeKey: 'GET /v1/health',
      rawPath: '/v1/health',
      headers: { authorization: `Bearer ${key}` },
      requestContext: { http: { method: 'GET', path: '/v1/health' } },
    } as never);
  const ok = (await req('adm')) as { statusCode: number; body: string };
  expect(ok.statusCode).toBe(200);
  expect(JSON.parse(ok.body)).toEqual({ queues: [{ name: 'ingest', visible: 1, inFlight: 0, deadLetters: 0 }], recentErrors: [] });
  expect(((await req('read-key')) as { statusCode: number }).statusCode).toBe(401);
});
