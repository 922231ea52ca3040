/**
 * Events validated per second per core by the collect handler: in-process, one core, a no-op
 * queue, realistic Segment batches of 20 events with a full `context` (as analytics.js sends).
 * Runs the whole HTTP handler: body decoding, auth (bootstrap key), validation, stamping.
 *
 * And the ingest row of `npm run bench` (`benchIngest`): requests per second of the local
 * endpoint (`local/server.ts` → collect → the local queue) against a bare `node:http` server that
 * only reads and parses the JSON body, under autocannon (10 connections, loopback), three rounds
 * of bare then endpoint, the median ratio. `--ingest` runs that row alone, against its own
 * in-memory runtime:
 *
 *   node --import tsx bench/collect-throughput.ts
 *   node --import tsx bench/collect-throughput.ts --ingest
 */
// Logs and EMF metrics off: this measures validation, not stdout.
import '../local/quiet';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createCollectHandler } from '../lambdas/collect';
import { BootstrapKeyStore, envLoader } from '../adapters/keys';
import type { EventQueue } from '../app/ports';

const WRITE_KEY = 'bench-write-key';
const BATCH_SIZE = 20;

function context(i: number): Record<string, unknown> {
  return {
    active: true,
    app: { name: 'Shop', version: '4.2.1', build: '4021', namespace: 'com.example.shop' },
    campaign: { name: 'spring', source: 'newsletter', medium: 'email', term: 'shoes', content: 'hero' },
    device: { id: `dev-${i}`, manufacturer: 'Apple', model: 'iPhone15,2', type: 'ios' },
    ip: '203.0.113.7',
    library: { name: 'analytics.js', version: '2.11.1' },
    locale: 'nl-NL',
    network: { wifi: true, cellular: false, carrier: 'KPN' },
    os: { name: 'iOS', version: '17.4' },
    page: {
      path: '/products/42',
      referrer: 'https://www.google.com/',
      search: '?utm_source=newsletter',
      title: 'Red shoes – Shop',
      url: 'https://shop.example/products/42?utm_source=newsletter',
    },
    screen: { width: 1179, height: 2556, density: 3 },
    timezone: 'Europe/Amsterdam',
    userAgent:
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  };
}

function batchBody(n: number): string {
  const now = Date.now();
  const batch = Array.from({ length: BATCH_SIZE }, (_, j) => {
    const i = n * BATCH_SIZE + j;
    const common = {
      messageId: `ajs-next-${i}-${now}`,
      anonymousId: `anon-${i % 5000}`,
      ...(i % 3 === 0 ? { userId: `user-${i % 2000}` } : {}),
      timestamp: new Date(now - 1000).toISOString(),
      context: context(i),
      integrations: { All: true },
    };
    if (j % 10 === 0)
      return {
        ...common,
        type: 'identify',
        traits: { email: `u${i}@example.com`, name: 'Ada Lovelace', plan: 'pro', createdAt: '2025-01-01T00:00:00Z' },
      };
    if (j % 5 === 0) return { ...common, type: 'page', name: 'Product', properties: { path: '/products/42', title: 'Red shoes' } };
    return {
      ...common,
      type: 'track',
      event: j % 2 ? 'Product Viewed' : 'Product Added',
      properties: {
        product_id: `p-${i % 300}`,
        sku: `SKU-${i % 300}`,
        name: 'Red shoes',
        price: 89.95,
        currency: 'EUR',
        quantity: 1,
        category: 'Shoes',
      },
    };
  });
  return JSON.stringify({ batch, sentAt: new Date(now).toISOString() });
}

export async function benchCollectThroughput(
  opts: { seconds?: number } = {},
): Promise<{ eventsPerSecond: number; events: number; seconds: number }> {
  const queue: EventQueue = { send: async () => undefined };
  const handler = createCollectHandler(() => ({ queue, keys: new BootstrapKeyStore({ write: envLoader(WRITE_KEY) }) }));
  const auth = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;
  // Distinct bodies so nothing is cached across requests; built before timing starts.
  const bodies = Array.from({ length: 50 }, (_, n) => batchBody(n));
  const request = (body: string) =>
    ({
      rawPath: '/v1/batch',
      routeKey: 'POST /v1/batch',
      headers: { authorization: auth, 'content-type': 'application/json', 'user-agent': 'bench' },
      body,
      isBase64Encoded: false,
      requestContext: { http: { method: 'POST', sourceIp: '198.51.100.1' }, requestId: 'bench' },
    }) as unknown as APIGatewayProxyEventV2;

  // Warm up (JIT, lazy zod internals), then measure for a fixed time on this one thread.
  for (let i = 0; i < 100; i++) await handler(request(bodies[i % bodies.length]!));
  const budgetMs = (opts.seconds ?? 3) * 1000;
  let events = 0;
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsedMs = 0;
  while (elapsedMs < budgetMs) {
    const res = await handler(request(bodies[n++ % bodies.length]!));
    if (res.statusCode !== 200) throw new Error(`collect answered ${res.statusCode}: ${res.body}`);
    events += BATCH_SIZE;
    elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  }
  const seconds = elapsedMs / 1000;
  return { eventsPerSecond: Math.round(events / seconds), events, seconds: Math.round(seconds * 1000) / 1000 };
}

/** A server that only reads and parses the JSON body: the ceiling for the ingest endpoint. */
export function startBareServer(): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        JSON.parse(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}');
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

/** autocannon: 10 connections for `seconds`, POSTing `body` with `auth`. */
export async function load(
  url: string,
  auth: string,
  body: string,
  seconds: number,
): Promise<{ rps: number; non2xx: number; errors: number; p50: number; cpuUsPerRequest: number }> {
  const cpu = process.cpuUsage();
  const res = await autocannon({
    url,
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body,
    connections: 10,
    duration: seconds,
  });
  // This process's CPU (client and server share it) per request: steadier than req/s on a busy machine.
  const used = process.cpuUsage(cpu);
  const cpuUsPerRequest = res.requests.total > 0 ? (used.user + used.system) / res.requests.total : 0;
  return { rps: res.requests.average, non2xx: res.non2xx, errors: res.errors, p50: res.latency.p50, cpuUsPerRequest };
}

export interface IngestRound {
  readonly bare: number;
  readonly endpoint: number;
  readonly ratio: number;
  /** CPU microseconds of this process per request (autocannon included), bare and endpoint. */
  readonly bareCpuUs?: number;
  readonly endpointCpuUs?: number;
}

/**
 * Requests per second of `POST <endpoint>/v1/track` against the bare server, in `rounds` rounds
 * of bare then endpoint (5 s each, after a 1 s warm-up of both); the median round by ratio.
 * The endpoint must answer every request 2xx.
 */
export async function benchIngest(
  endpoint: string,
  auth: string,
  body: string,
  rounds = 3,
): Promise<{ rounds: IngestRound[]; median: IngestRound }> {
  const bare = await startBareServer();
  try {
    const bareUrl = `http://127.0.0.1:${(bare.address() as { port: number }).port}/v1/track`;
    await load(bareUrl, auth, body, 1);
    await load(`${endpoint}/v1/track`, auth, body, 1);
    const out: IngestRound[] = [];
    for (let round = 0; round < rounds; round++) {
      const b = await load(bareUrl, auth, body, 5);
      const e = await load(`${endpoint}/v1/track`, auth, body, 5);
      if (e.non2xx > 0 || e.errors > 0) throw new Error(`the ingest endpoint failed under load: ${e.non2xx} non-2xx, ${e.errors} errors`);
      out.push({ bare: b.rps, endpoint: e.rps, ratio: e.rps / b.rps, bareCpuUs: b.cpuUsPerRequest, endpointCpuUs: e.cpuUsPerRequest });
    }
    const median = [...out].sort((a, b) => a.ratio - b.ratio)[Math.floor(out.length / 2)]!;
    return { rounds: out, median };
  } finally {
    await new Promise<void>((r) => (bare.closeAllConnections(), bare.close(() => r())));
  }
}

/** The ingest row alone: its own in-memory runtime, the queue consumer stopped (as the bench). */
async function ingestAlone(): Promise<void> {
  const { startRuntime } = await import('../local/runtime');
  const { sampleTrack } = await import('./dataset');
  const root = resolve(__dirname, '..');
  const dataDir = mkdtempSync(join(tmpdir(), 'scherp-ingest-'));
  const rt = await startRuntime({
    port: 0,
    inMemory: true,
    dataDir,
    rulesDir: join(root, 'rules'),
    tableName: 'ingest',
    sourceRateLimit: false,
  });
  try {
    await rt.queue.stop();
    const auth = `Basic ${Buffer.from(`${rt.keys.write}:`).toString('base64')}`;
    const r = await benchIngest(rt.url, auth, JSON.stringify(sampleTrack()));
    for (const x of r.rounds)
      process.stdout.write(
        `round: endpoint ${Math.round(x.endpoint)} req/s, bare ${Math.round(x.bare)} req/s = ${x.ratio.toFixed(2)}` +
          ` (CPU per request: endpoint ${Math.round(x.endpointCpuUs ?? 0)} us, bare ${Math.round(x.bareCpuUs ?? 0)} us)\n`,
      );
    process.stdout.write(
      `ingest: ${Math.round(r.median.endpoint)} vs ${Math.round(r.median.bare)} req/s = ${r.median.ratio.toFixed(2)} (median of ${r.rounds.length})\n`,
    );
  } finally {
    await rt.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module && process.argv.includes('--ingest')) {
  ingestAlone().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
} else if (require.main === module) {
  benchCollectThroughput().then(
    (r) =>
      process.stdout.write(
        `collect: ${r.eventsPerSecond} events/s per core (${r.events} events in ${r.seconds} s, batches of ${BATCH_SIZE}, full context)\n`,
      ),
    (err) => {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
