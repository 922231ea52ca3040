/**
 * Soak test (not part of `npm test`): drives the local endpoint at a sustained rate for several
 * minutes and reports throughput, latency percentiles, memory over time and queue depth.
 *
 *   npm run soak                       # 3 minutes at 4 requests/s of 4-event batches (16 events/s:
 *                                      # below the local pipeline's ~23 events/s on 2 cores)
 *   npm run soak -- --minutes 10 --rate 400 --batch 10
 *
 * Loopback only; bounded in time; stops everything it started.
 */
import '../local/quiet';
import autocannon from 'autocannon';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRuntime } from '../local/runtime';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

interface Sample {
  readonly t: number;
  readonly rssMb: number;
  readonly heapMb: number;
  readonly queueDepth: number;
  readonly busEvents: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

async function main(): Promise<void> {
  const minutes = arg('minutes', 3);
  const rate = arg('rate', 4);
  const batch = arg('batch', 4);
  const rt = await startRuntime({
    port: 0,
    inMemory: true,
    dataDir: mkdtempSync(join(tmpdir(), 'scherp-soak-')),
    keys: { write: 'soak', read: 'soak-r', admin: 'soak-a' },
    sourceRateLimit: false,
  });
  const samples: Sample[] = [];
  const started = Date.now();
  const sample = () => {
    const m = process.memoryUsage();
    samples.push({
      t: Math.round((Date.now() - started) / 1000),
      rssMb: m.rss / 2 ** 20,
      heapMb: m.heapUsed / 2 ** 20,
      queueDepth: rt.queue.depth,
      busEvents: rt.bus.delivered.length,
    });
    const s = samples[samples.length - 1]!;
    process.stdout.write(`t=${s.t}s rss=${s.rssMb.toFixed(0)}MB heap=${s.heapMb.toFixed(0)}MB queue=${s.queueDepth}\n`);
  };
  const timer = setInterval(sample, 10_000);
  sample();
  let n = 0;
  const result = await autocannon({
    url: `${rt.url}/v1/batch`,
    method: 'POST',
    connections: 8,
    overallRate: rate,
    duration: minutes * 60,
    headers: { authorization: `Basic ${Buffer.from('soak:').toString('base64')}`, 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (req) => {
          const user = n++ % 2000;
          const events = Array.from({ length: batch }, (_, i) => ({
            type: 'track',
            anonymousId: `soak-anon-${user}`,
            event: i === 0 && user % 10 === 0 ? 'Order Completed' : 'Product Viewed',
            properties: { revenue: (user % 300) + 1, product_id: `p-${i}` },
            context: { library: { name: 'soak', version: '1' }, page: { path: `/p/${i}` }, userAgent: 'soak' },
          }));
          return { ...req, body: JSON.stringify({ batch: events }) };
        },
      },
    ],
  });
  clearInterval(timer);
  // Let the pipeline drain, then take the last sample.
  const drainStart = Date.now();
  while (rt.queue.depth > 0 && Date.now() - drainStart < 120_000) await new Promise((r) => setTimeout(r, 500));
  const drainSeconds = (Date.now() - drainStart) / 1000;
  sample();
  await rt.stop();

  const third = Math.max(1, Math.floor((samples.length - 1) / 3));
  const first = samples.slice(0, third);
  const last = samples.slice(-third - 1, -1);
  const report = {
    minutes,
    targetRequestsPerSecond: rate,
    eventsPerRequest: batch,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    requestsPerSecond: result.requests.average,
    eventsPerSecond: result.requests.average * batch,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    rssMb: { firstThird: mean(first.map((s) => s.rssMb)), lastThird: mean(last.map((s) => s.rssMb)) },
    heapMb: { firstThird: mean(first.map((s) => s.heapMb)), lastThird: mean(last.map((s) => s.heapMb)) },
    queueDepth: {
      max: Math.max(...samples.map((s) => s.queueDepth)),
      lastThirdMean: mean(last.map((s) => s.queueDepth)),
      afterDrain: samples[samples.length - 1]!.queueDepth,
    },
    drainSeconds,
    samples,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main().catch((err) => {
  process.stderr.write(`soak: ${(err as Error).stack}\n`);
  process.exit(1);
});
