import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createCollectHandler } from '../../lambdas/collect';
import { BootstrapKeyStore, envLoader } from '../../adapters/keys';
import type { EventQueue } from '../../app/ports';
import type { ScherpEvent } from '../../core/events';

class MemoryQueue implements EventQueue {
  sent: ScherpEvent[] = [];
  fail = false;
  async send(events: readonly ScherpEvent[]): Promise<void> {
    if (this.fail) throw new Error('queue down');
    this.sent.push(...events);
  }
}

const auth = (k: string) => ({ authorization: `Basic ${Buffer.from(`${k}:`).toString('base64')}` });
const req = (path: string, body: unknown, headers: Record<string, string> = auth('wk')): APIGatewayProxyEventV2 =>
  ({ rawPath: path, headers, body: typeof body === 'string' ? body : JSON.stringify(body), requestContext: { http: { sourceIp: '10.0.0.1' } } }) as unknown as APIGatewayProxyEventV2;

describe('collect handler', () => {
  let queue: MemoryQueue;
  let handler: ReturnType<typeof createCollectHandler>;
  beforeEach(() => {
    queue = new MemoryQueue();
    handler = createCollectHandler(() => ({ queue, keys: new BootstrapKeyStore({ write: envLoader('wk') }) }));
  });

  it('queues a valid track call and answers like Segment', async () => {
    const r = await handler(req('/v1/track', { userId: 'u', event: 'E' }));
    expect(r.statusCode).toBe(200);
    expect(JSON.parse(r.body!)).toEqual({ success: true });
    expect(queue.sent).toHaveLength(1);
    expect(queue.sent[0]!.context).toMatchObject({ ip: '10.0.0.1' });
  });

  it('accepts the key in the body (sendBeacon)', async () => {
    const r = await handler(req('/v1/track', { writeKey: 'wk', userId: 'u', event: 'E' }, {}));
    expect(r.statusCode).toBe(200);
  });

  it('401 without or with a wrong key, 400 on bad JSON; nothing queued', async () => {
    expect((await handler(req('/v1/track', { userId: 'u', event: 'E' }, {}))).statusCode).toBe(401);
    expect((await handler(req('/v1/track', { userId: 'u', event: 'E' }, auth('nope')))).statusCode).toBe(401);
    const bad = await handler(req('/v1/track', '{oops'));
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body!).issues[0].path).toBe('(body)');
    expect(queue.sent).toHaveLength(0);
  });

  it('a queue failure is a 500, so the SDK retries', async () => {
    queue.fail = true;
    expect((await handler(req('/v1/track', { userId: 'u', event: 'E' }))).statusCode).toBe(500);
  });

  it('unknown routes are 404', async () => {
    expect((await handler(req('/v1/nope', { userId: 'u' }))).statusCode).toBe(404);
  });
});
