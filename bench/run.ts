/**
 * `npm run bench [-- --users N] [-- --seed S] [-- --scale-users M]` (or BENCH_USERS / BENCH_SEED /
 * BENCH_SCALE_USERS; M defaults to 10 × N, 0 skips the scale row): generates the
 * web-shop data set, runs it through the local runtime on DynamoDB Local and prints one table of
 * everything measured in this run; writes bench/results.json. See docs/benchmarks.md.
 *
 * Everything it starts (DynamoDB Local via the runtime, HTTP servers on port 0) it stops again.
 * A missed goal is reported, not an error: the exit code is non-zero only when something failed.
 */
import { audienceRows, benchAudiences } from './audiences';
import '../local/quiet';
import { cpus, loadavg, totalmem } from 'node:os';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  BatchGetItemCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { localDynamoConfig, type MeteredCall } from '../adapters/dynamo/client';
import { ensureTable } from '../local/dynamodb-local';
import { startRuntime, type Runtime } from '../local/runtime';
import type { LocalBusEvent } from '../local/bus';
import { measureBundles, requireTime, type BundleResult } from './bundles';
import { measureDebugger } from './debugger';
import { ASSUMED_CALL_MS, costPerMillionEvents, floorInputs, PRICES, type CostBreakdown, type CostInputs } from './cost';
import { generateDataSet, sampleTrack, type GeneratedEvent } from './dataset';
import { Meter, type Tally } from './meter';
import { benchRules } from './rules';
import { benchCollectThroughput, benchIngest } from './collect-throughput';

const ROOT = resolve(__dirname, '..');
/** Poll intervals of the local runtime during the bench (the runtime's defaults). */
const QUEUE_POLL_MS = 25;
const STREAM_POLL_MS = 50;

// ---------------------------------------------------------------------------------------------
// options, output helpers

function option(name: string, env: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i >= 0 ? process.argv[i + 1] : process.env[env];
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${raw}`);
  return n;
}

const t0 = performance.now();
function log(msg: string): void {
  process.stdout.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

const r2 = (n: number) => Math.round(n * 100) / 100;
const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

interface Row {
  readonly id: string;
  readonly measure: string;
  readonly value: string;
  readonly goal: string;
  /** undefined: no goal (information only). */
  readonly met?: boolean;
}

// ---------------------------------------------------------------------------------------------
// talking to the runtime

class Client {
  private readonly auth: string;
  private readonly readAuth: string;
  constructor(private readonly rt: Runtime) {
    this.auth = `Basic ${Buffer.from(`${rt.keys.write}:`).toString('base64')}`;
    this.readAuth = `Basic ${Buffer.from(`${rt.keys.read}:`).toString('base64')}`;
  }

  async post(path: string, body: unknown): Promise<void> {
    const res = await fetch(`${this.rt.url}${path}`, {
      method: 'POST',
      headers: { authorization: this.auth, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`POST ${path}: ${res.status} ${text.slice(0, 300)}`);
  }

  batch(events: readonly Record<string, unknown>[]): Promise<void> {
    return this.post('/v1/batch', { batch: events });
  }

  async profile(key: string): Promise<void> {
    const res = await fetch(`${this.rt.url}/v1/profiles/${encodeURIComponent(key)}`, { headers: { authorization: this.readAuth } });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET profile: ${res.status} ${text.slice(0, 300)}`);
  }
}

/** Waits until the queue is empty and the runtime made no DynamoDB call for `quietMs` (stream and evaluate included). */
async function waitIdle(rt: Runtime, meter: Meter, quietMs = 400, timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (rt.queue.depth === 0 && performance.now() - meter.lastCallAt > quietMs) return;
    if (Date.now() > deadline) throw new Error(`the pipeline did not drain within ${timeoutMs} ms (queue depth ${rt.queue.depth})`);
    await sleep(20);
  }
}

/** Sends events in batches with a few requests in flight; reports progress on long runs. */
async function sendAll(
  client: Client,
  events: readonly Record<string, unknown>[],
  batchSize = 20,
  inFlight = 3,
  progress?: (sent: number) => void,
): Promise<void> {
  let next = 0;
  let sent = 0;
  const worker = async () => {
    while (next < events.length) {
      const chunk = events.slice(next, next + batchSize);
      next += chunk.length;
      await client.batch(chunk);
      sent += chunk.length;
      progress?.(sent);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

function withIds(
  template: Record<string, unknown>,
  ids: Record<string, string | undefined>,
  messageId: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const { userId: _u, anonymousId: _a, ...rest } = template;
  // The device is the anonymous id's, as in the data set (`webContext`): a template's own
  // `context.device.id` belongs to another person's profile, and every kind's event would name it.
  const context = rest.context as { device?: Record<string, unknown> } | undefined;
  if (context?.device && ids.anonymousId !== undefined)
    rest.context = { ...context, device: { ...context.device, id: ids.anonymousId.slice(0, 18) } };
  return { ...rest, ...Object.fromEntries(Object.entries(ids).filter(([, v]) => v !== undefined)), messageId, ...extra };
}

// ---------------------------------------------------------------------------------------------
// phases

interface KindResult {
  readonly kind: string;
  readonly events: number;
  readonly wru: number;
  readonly rru: number;
  readonly items: number;
}

function perEvent(kind: string, t: Tally, n: number): KindResult {
  return { kind, events: n, wru: t.wru / n, rru: t.rru / n, items: t.itemsWritten / n };
}

async function measureKinds(
  rt: Runtime,
  client: Client,
  meter: Meter,
  templates: Record<string, Record<string, unknown>>,
  k: number,
): Promise<KindResult[]> {
  const users = Array.from({ length: k }, (_, i) => ({ userId: `kind_user_${i}`, anonA: `kind-anon-a-${i}`, anonB: `kind-anon-b-${i}` }));
  let ts = Date.UTC(2026, 1, 1);
  const at = () => ({ timestamp: new Date((ts += 1000)).toISOString() });
  const run = async (label: string, events: Record<string, unknown>[]) => {
    meter.label = label;
    await client.batch(events);
    await waitIdle(rt, meter);
    meter.label = 'setup';
    return meter.tally(label);
  };
  await run(
    'kinds:setup',
    users.map((u, i) => withIds(templates.identify!, { userId: u.userId, anonymousId: u.anonA }, `kind-setup-${i}`, at())),
  );
  const out: KindResult[] = [];
  out.push(
    perEvent(
      'track on a known profile',
      await run(
        'kinds:track',
        users.map((u, i) => withIds(templates.track!, { userId: u.userId, anonymousId: u.anonA }, `kind-track-${i}`, at())),
      ),
      k,
    ),
  );
  out.push(
    perEvent(
      'identify (traits change)',
      await run(
        'kinds:identify',
        users.map((u, i) =>
          withIds(templates.identify!, { userId: u.userId, anonymousId: u.anonA }, `kind-identify-${i}`, {
            ...at(),
            traits: { plan: 'gold', lastLogin: new Date(ts).toISOString() },
          }),
        ),
      ),
      k,
    ),
  );
  await run(
    'kinds:setup-merge',
    users.map((u, i) => withIds(templates.track!, { anonymousId: u.anonB }, `kind-anon-${i}`, at())),
  );
  out.push(
    perEvent(
      'identify that merges 2 profiles',
      await run(
        'kinds:merge',
        users.map((u, i) => withIds(templates.login!, { userId: u.userId, anonymousId: u.anonB }, `kind-merge-${i}`, at())),
      ),
      k,
    ),
  );
  out.push(
    perEvent(
      'order (a rule fires)',
      await run(
        'kinds:order',
        users.map((u, i) =>
          withIds(templates.order!, { userId: u.userId, anonymousId: u.anonA }, `kind-order-${i}`, {
            ...at(),
            properties: { ...(templates.order!.properties as object), revenue: 150 },
          }),
        ),
      ),
      k,
    ),
  );
  // A browser session: analytics.js batches a visitor's events, so one /v1/batch request holds
  // 20 events of one known person (a page view, then product views).
  const sessions = users.slice(0, 5);
  meter.label = 'kinds:session';
  for (const [j, u] of sessions.entries())
    await client.batch(
      Array.from({ length: 20 }, (_, i) =>
        withIds(templates.track!, { userId: u.userId, anonymousId: u.anonA }, `kind-session-${j}-${i}`, at()),
      ),
    );
  await waitIdle(rt, meter);
  meter.label = 'setup';
  out.push(perEvent(SESSION_KIND, meter.tally('kinds:session'), sessions.length * 20));
  return out;
}

/** The kind row of the per-person batches (its units also price the per-person cost row). */
const SESSION_KIND = 'browser session: 20 events of one person in one /v1/batch';

interface MixResult {
  readonly users: number;
  readonly events: number;
  readonly wru: number;
  readonly rru: number;
}

/**
 * How cost grows with the data: the data set of `users` users through its own runtime (a fresh
 * table), the DynamoDB units per event of the whole mix.
 */
async function measureMix(users: number, seed: number): Promise<MixResult> {
  const ds = generateDataSet({ users, seed });
  const meter = new Meter();
  const dataDir = mkdtempSync(join(tmpdir(), 'scherp-bench-scale-'));
  const rt = await startRuntime({
    port: 0,
    inMemory: true,
    dataDir,
    rulesDir: join(ROOT, 'rules'),
    tableName: `bench-scale-${users}`,
    sourceRateLimit: false,
    streamPollMs: STREAM_POLL_MS,
    queue: { pollMs: QUEUE_POLL_MS },
    onDynamoClient: (c) => meter.attach(c),
  });
  try {
    meter.label = 'dataset';
    const progress = setInterval(() => log(`  ${users} users: stored ${ds.events.length - rt.queue.depth}/${ds.events.length}`), 10_000);
    try {
      await sendAll(
        new Client(rt),
        ds.events.map((e) => e.body),
        20,
        3,
      );
      await waitIdle(rt, meter, 400, 1_800_000);
    } finally {
      clearInterval(progress);
    }
    meter.label = 'setup';
    const t = meter.tally('dataset');
    return { users, events: ds.events.length, wru: t.wru / ds.events.length, rru: t.rru / ds.events.length };
  } finally {
    await rt.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface MergeResult {
  readonly history: number;
  readonly itemsWritten: number;
  readonly wru: number;
}

async function measureMergeByHistory(
  rt: Runtime,
  client: Client,
  meter: Meter,
  templates: Record<string, Record<string, unknown>>,
  history: number,
): Promise<MergeResult> {
  const userId = `hist_user_${history}`;
  const anonA = `hist-anon-a-${history}`;
  const anonB = `hist-anon-b-${history}`;
  let ts = Date.UTC(2026, 2, 1);
  const at = () => ({ timestamp: new Date((ts += 1000)).toISOString() });
  const setup: Record<string, unknown>[] = [withIds(templates.identify!, { userId, anonymousId: anonA }, `hist-${history}-id`, at())];
  // The anonymous profile (the younger one, which the merge folds into the user's) gets the
  // history: a merge that moved or copied its timeline would write `history` more items.
  for (let i = 0; i < history; i++) setup.push(withIds(templates.track!, { anonymousId: anonB }, `hist-${history}-b-${i}`, at()));
  await sendAll(client, setup, 100, 2);
  await waitIdle(rt, meter);
  const label = `merge:${history}`;
  meter.label = label;
  await client.post('/v1/identify', withIds(templates.login!, { userId, anonymousId: anonB }, `hist-${history}-merge`, at()));
  await waitIdle(rt, meter);
  meter.label = 'setup';
  const t = meter.tally(label);
  return { history, itemsWritten: t.itemsWritten, wru: t.wru };
}

const REPLAY: Record<string, new (input: never) => unknown> = {
  GetItem: GetItemCommand,
  BatchGetItem: BatchGetItemCommand,
  Query: QueryCommand,
};

interface LatencyResult {
  readonly apiP50: number;
  readonly apiP95: number;
  readonly rawP50: number;
  readonly rawP95: number;
  readonly readsPerRequest: number;
  readonly samples: number;
}

async function measureProfileLatency(rt: Runtime, client: Client, meter: Meter, userIds: readonly string[]): Promise<LatencyResult> {
  // The same DynamoDB requests as the API sent them, replayed right after each API call from a
  // plain client (interleaved, so both see the same machine load).
  const raw = new DynamoDBClient(localDynamoConfig(rt.dynamoEndpoint));
  const replay = async (list: readonly MeteredCall[]) => {
    for (const c of list) {
      const Cmd = REPLAY[c.op];
      if (!Cmd || !c.body) throw new Error(`cannot replay ${c.op}`);
      await raw.send(new Cmd(JSON.parse(c.body) as never) as never);
    }
  };
  const api: number[] = [];
  const rawTimes: number[] = [];
  let reads = 0;
  meter.label = 'profile';
  try {
    for (const [i, id] of userIds.entries()) {
      meter.capture = [];
      const start = performance.now();
      await client.profile(`user_id:${id}`);
      const apiMs = performance.now() - start;
      const calls = meter.capture;
      meter.capture = undefined;
      const rawStart = performance.now();
      await replay(calls);
      const rawMs = performance.now() - rawStart;
      if (i < 10) continue; // warm-up
      api.push(apiMs);
      rawTimes.push(rawMs);
      reads += calls.length;
    }
  } finally {
    meter.capture = undefined;
    meter.label = 'setup';
    raw.destroy();
  }
  return {
    apiP50: percentile(api, 50),
    apiP95: percentile(api, 95),
    rawP50: percentile(rawTimes, 50),
    rawP95: percentile(rawTimes, 95),
    readsPerRequest: reads / api.length,
    samples: api.length,
  };
}

async function measureEventToAction(
  rt: Runtime,
  client: Client,
  order: Record<string, unknown>,
  userIds: readonly string[],
  samples: number,
): Promise<{ p50: number; p95: number; n: number }> {
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const messageId = `e2a-${i}-${randomBytes(4).toString('hex')}`;
    const delivered = new Promise<number>((resolveDelivery, reject) => {
      const timer = setTimeout(() => {
        rt.bus.events.off('event', on);
        reject(new Error(`no bus delivery for ${messageId} within 15 s`));
      }, 15_000);
      const on = (ev: LocalBusEvent) => {
        if ((ev.detail.trigger as { messageId?: string } | undefined)?.messageId !== messageId) return;
        clearTimeout(timer);
        rt.bus.events.off('event', on);
        resolveDelivery(performance.now());
      };
      rt.bus.events.on('event', on);
    });
    const body = withIds(order, { userId: userIds[i % userIds.length] }, messageId, {
      timestamp: new Date(Date.UTC(2026, 3, 1) + i * 1000).toISOString(),
      properties: { ...(order.properties as object), revenue: 150 },
    });
    await client.post('/v1/track', body);
    const accepted = performance.now();
    latencies.push((await delivered) - accepted);
    await sleep(37); // do not phase-lock with the poll intervals
  }
  return { p50: percentile(latencies, 50), p95: percentile(latencies, 95), n: latencies.length };
}

async function meanLatency(fn: () => Promise<void>, n: number): Promise<number> {
  for (let i = 0; i < 5; i++) await fn();
  const start = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return (performance.now() - start) / n;
}

function machine(): Record<string, string | number> {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    java: `${java.stderr ?? ''}${java.stdout ?? ''}`.split('\n')[0]?.trim() || 'unknown',
    loadAverage1m: r2(loadavg()[0] ?? 0),
  };
}

// ---------------------------------------------------------------------------------------------
// main

/** `--units`: rows 1 and the DynamoDB share of row 8 only (units are exact on any machine). */
async function unitsOnly(ds: ReturnType<typeof generateDataSet>, templates: Record<string, Record<string, unknown>>): Promise<void> {
  const meter = new Meter();
  const dataDir = mkdtempSync(join(tmpdir(), 'scherp-bench-units-'));
  const rt = await startRuntime({
    port: 0,
    inMemory: true,
    dataDir,
    rulesDir: join(ROOT, 'rules'),
    tableName: 'bench-units',
    sourceRateLimit: false,
    streamPollMs: STREAM_POLL_MS,
    queue: { pollMs: QUEUE_POLL_MS },
    onDynamoClient: (c) => meter.attach(c),
  });
  try {
    const client = new Client(rt);
    meter.label = 'dataset';
    meter.capture = [];
    await sendAll(
      client,
      ds.events.map((e) => e.body),
      20,
      3,
      () => undefined,
    );
    await waitIdle(rt, meter);
    meter.label = 'setup';
    const mix = perEvent('data-set mix', meter.tally('dataset'), ds.events.length);
    // Where the mix's units go: by operation and the sort key's prefix (PROFILE#C, EV#, ID, …).
    const by = new Map<string, { calls: number; units: number }>();
    for (const c of meter.capture) {
      const sk = /"sk":\{"S":"([A-Z]+[#]?[A-Z]*)/.exec(c.body ?? '')?.[1] ?? (c.body?.includes(':sk') ? 'query' : '?');
      const k = `${c.kind} ${c.op} ${sk}`;
      const e = by.get(k) ?? { calls: 0, units: 0 };
      e.calls++;
      e.units += c.units;
      by.set(k, e);
    }
    meter.capture = undefined;
    for (const [k, e] of [...by].sort((a, b) => b[1].units - a[1].units))
      process.stdout.write(`  ${k}: ${fmt(e.units / ds.events.length, 3)} units per event (${e.calls} calls)\n`);
    const kinds = await measureKinds(rt, client, meter, templates, 40);
    const dynamo = (k: KindResult) => k.wru * PRICES.dynamoPerMillionWru + k.rru * PRICES.dynamoPerMillionRru;
    for (const k of [...kinds, mix])
      process.stdout.write(
        `${k.kind}: ${fmt(k.wru)} WRU / ${fmt(k.rru)} RRU per event (${fmt(k.items, 1)} items); DynamoDB $${fmt(dynamo(k), 3)} per million\n`,
      );
  } finally {
    await rt.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const users = option('users', 'BENCH_USERS', 60);
  const seed = option('seed', 'BENCH_SEED', 42);
  const host = machine();
  log(`machine: ${host.cpus} × ${host.cpuModel}, ${host.memoryGb} GB, node ${host.node}, ${host.java}, load ${host.loadAverage1m}`);

  const ds = generateDataSet({ users, seed });
  const bodies = ds.events.map((e) => e.body);
  const eventBytes = bodies.reduce((s, b) => s + Buffer.byteLength(JSON.stringify(b)), 0) / bodies.length;
  const byKind = (k: GeneratedEvent['kind']) => ds.events.find((e) => e.kind === k)!.body;
  const templates = { track: byKind('product_viewed'), identify: byKind('identify'), login: byKind('signed_in'), order: byKind('order') };
  log(`data set: seed ${seed}, ${users} users, ${ds.events.length} events, ${Math.round(eventBytes)} bytes per event on average`);

  // `--units`: only the DynamoDB units (the data-set mix and the kinds of row 1), a quick check.
  if (process.argv.includes('--units')) return unitsOnly(ds, templates);

  // (7) bundles, (6) rules: CPU only, before anything else runs.
  log('bundling the Lambdas with the deployed esbuild options and timing require() in fresh processes…');
  const bundles: BundleResult[] = await measureBundles(ROOT, join(ROOT, 'bench', 'out'));
  // For reference: what loading the runtime-provided SDK alone costs (part of every init above).
  const sdkInitMs = requireTime(['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'], ROOT);

  log('rule evaluation with 10, 100 and 1,000 rules…');
  const rulesSource = 'bench/rules.ts benchRules';
  const rules = Object.entries(await benchRules([10, 100, 1000])).map(([n, us]) => ({ rules: Number(n), usPerEvent: us }));

  const meter = new Meter();
  const dataDir = mkdtempSync(join(tmpdir(), 'scherp-bench-'));
  log('starting the local runtime (DynamoDB Local in memory)…');
  const rt = await startRuntime({
    port: 0,
    inMemory: true,
    dataDir,
    rulesDir: join(ROOT, 'rules'),
    tableName: 'bench',
    sourceRateLimit: false,
    streamPollMs: STREAM_POLL_MS,
    queue: { pollMs: QUEUE_POLL_MS },
    onDynamoClient: (c) => meter.attach(c),
  });
  const servers: Server[] = [];
  const stopOnSignal = () => void rt.stop().finally(() => process.exit(130));
  process.once('SIGINT', stopOnSignal);
  try {
    const client = new Client(rt);

    // (4) the data set end to end, and the DynamoDB units of its realistic mix (for the cost model).
    log(`loading ${ds.events.length} events through HTTP → collect → queue → stitch → table → stream → evaluate…`);
    const busBefore = rt.bus.delivered.length;
    let busCount = 0;
    const countBus = () => busCount++;
    rt.bus.events.on('event', countBus);
    meter.label = 'dataset';
    const loadStart = performance.now();
    let lastLog = loadStart;
    await sendAll(client, bodies, 20, 3, (sent) => {
      if (performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        log(`  sent ${sent}/${bodies.length}`);
      }
    });
    const progress = setInterval(() => log(`  stored ${bodies.length - rt.queue.depth}/${bodies.length}`), 5000);
    await waitIdle(rt, meter).finally(() => clearInterval(progress));
    const pipelineSeconds = (meter.lastCallAt - loadStart) / 1000;
    meter.label = 'setup';
    rt.bus.events.off('event', countBus);
    const dsTally = { ...meter.tally('dataset') };
    if (rt.queue.deadLetters.length > 0)
      throw new Error(`${rt.queue.deadLetters.length} events went to the dead-letter queue: ${rt.queue.deadLetters[0]!.reason}`);
    const pipelineRate = ds.events.length / pipelineSeconds;
    log(
      `  ${ds.events.length} events in ${pipelineSeconds.toFixed(1)} s = ${pipelineRate.toFixed(0)} events/s; ${busCount} bus events (${busBefore} before)`,
    );

    log('raw baseline: the same items (a scan of the table) written again with PutItem, one at a time…');
    const raw = new DynamoDBClient(localDynamoConfig(rt.dynamoEndpoint));
    const rawTable = `raw-${randomBytes(4).toString('hex')}`;
    let rawItems = 0;
    let rawSeconds = 0;
    try {
      const items: Record<string, AttributeValue>[] = [];
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await raw.send(new ScanCommand({ TableName: rt.tableName, ExclusiveStartKey: start }));
        items.push(...(page.Items ?? []).filter((it) => it.pk?.S !== 'RULES'));
        start = page.LastEvaluatedKey;
      } while (start);
      await ensureTable(raw, rawTable);
      const begin = performance.now();
      for (const Item of items) await raw.send(new PutItemCommand({ TableName: rawTable, Item }));
      rawSeconds = (performance.now() - begin) / 1000;
      rawItems = items.length;
    } finally {
      await raw.send(new DeleteTableCommand({ TableName: rawTable })).catch(() => undefined);
      raw.destroy();
    }
    const rawRate = ds.events.length / rawSeconds;
    log(`  ${rawItems} items in ${rawSeconds.toFixed(1)} s = ${rawRate.toFixed(0)} events/s`);

    // (1) units per event by kind.
    log('DynamoDB units per event by kind…');
    const kinds = await measureKinds(rt, client, meter, templates, 40);

    // (2) items written per merge by history.
    log('merges of profiles with 10 and with 1,000 past events (loading their history)…');
    const merges = [
      await measureMergeByHistory(rt, client, meter, templates, 10),
      await measureMergeByHistory(rt, client, meter, templates, 1000),
    ];

    // (5) profile API latency against the reads it performs.
    log('profile API latency vs. replaying its DynamoDB reads…');
    const latency = await measureProfileLatency(
      rt,
      client,
      meter,
      Array.from({ length: 160 }, (_, i) => ds.users[i % ds.users.length]!.userId),
    );

    // (9) event to action.
    log(`event-to-action latency (queue poll ${QUEUE_POLL_MS} ms, stream poll ${STREAM_POLL_MS} ms)…`);
    const e2a = await measureEventToAction(
      rt,
      client,
      templates.order,
      ds.users.map((u) => u.userId),
      40,
    );

    // (3) ingest throughput. The queue consumer is stopped so that stitch does not share the
    // process with the endpoint (in the cloud, collect runs in its own Lambdas).
    await rt.queue.stop();
    log('collect latency at batch sizes 1 and 20 (for the Lambda duration in the cost model)…');
    const one = sampleTrack();
    const collectMs1 = await meanLatency(() => client.post('/v1/track', one), 200);
    const twenty = Array.from({ length: 20 }, (_, i) => ({
      ...one,
      messageId: undefined,
      anonymousId: `${i}-${one.anonymousId as string}`,
    }));
    const collectMs20 = await meanLatency(() => client.batch(twenty), 100);

    log('collect handler throughput (in-process, batches of 20, 5 s)…');
    const collectThroughput = await benchCollectThroughput({ seconds: 5 });

    log('ingest throughput under autocannon (10 connections, 5 s each, loopback)…');
    const auth = `Basic ${Buffer.from(`${rt.keys.write}:`).toString('base64')}`;
    // Three rounds of bare then endpoint; the row is the median ratio (the machine is shared).
    const ingest = await benchIngest(rt.url, auth, JSON.stringify(one));
    const ingestRounds = ingest.rounds;
    const ingestLoad = { rps: ingest.median.endpoint, non2xx: 0, errors: 0 };
    const bareLoad = { rps: ingest.median.bare };

    // (10) the console's back end: the debugger idle and watching, the counters.
    log('console back end: debugger marker reads with no session, debug writes while watching, counter writes per batch…');
    const consoleTable = `console-${randomBytes(4).toString('hex')}`;
    const consoleClient = new DynamoDBClient(localDynamoConfig(rt.dynamoEndpoint));
    await ensureTable(consoleClient, consoleTable);
    const consoleCost = await measureDebugger(rt.dynamoEndpoint, consoleTable).finally(async () => {
      await consoleClient.send(new DeleteTableCommand({ TableName: consoleTable })).catch(() => undefined);
      consoleClient.destroy();
    });

    // (11) how cost grows: the same mix with ten times the users (`--scale-users`, 0: skip).
    const scaleArg = process.argv.indexOf('--scale-users');
    const scaleUsers = Number(scaleArg >= 0 ? process.argv[scaleArg + 1] : (process.env.BENCH_SCALE_USERS ?? users * 10));
    const scaleRuns: MixResult[] = [];
    if (scaleUsers > 0) {
      log(`the data-set mix again at ${scaleUsers} users (its own runtime and table)…`);
      scaleRuns.push(await measureMix(scaleUsers, seed));
    }

    // (8) cost model.
    const track = kinds[0]!;
    const dsWru = dsTally.wru / ds.events.length;
    const dsRru = dsTally.rru / ds.events.length;
    const busPerEvent = busCount / ds.events.length;
    const callsPerEvent = dsTally.calls / ds.events.length;
    const inputs = (batchSize: number, collectCpuMs: number): CostInputs => ({
      batchSize,
      eventBytes,
      wruPerEvent: dsWru,
      rruPerEvent: dsRru,
      busEventsPerEvent: busPerEvent,
      collectCpuMs,
      dynamoCallsPerEvent: callsPerEvent,
    });
    const cost: CostBreakdown[] = [costPerMillionEvents(inputs(1, collectMs1)), costPerMillionEvents(inputs(20, collectMs20))];
    const session = kinds.find((k) => k.kind === SESSION_KIND)!;
    const sessionCost = costPerMillionEvents({ ...inputs(20, collectMs20), wruPerEvent: session.wru, rruPerEvent: session.rru });
    const scale = [
      { users, events: ds.events.length, wru: dsWru, rru: dsRru, costBatch20: cost[1]!.total },
      ...scaleRuns.map((r) => ({
        ...r,
        costBatch20: costPerMillionEvents({ ...inputs(20, collectMs20), wruPerEvent: r.wru, rruPerEvent: r.rru }).total,
      })),
    ];
    const floor: CostBreakdown[] = [
      costPerMillionEvents(floorInputs(inputs(1, collectMs1))),
      costPerMillionEvents(floorInputs(inputs(20, collectMs20))),
    ];

    // ---- the table
    const rows: Row[] = [];
    for (const k of kinds)
      rows.push({
        id: '1',
        measure: `WRU / RRU per event: ${k.kind}`,
        value: `${fmt(k.wru)} / ${fmt(k.rru)} (${fmt(k.items, 1)} items)`,
        goal: k === track ? '≤ 2 / ≤ 1 (floor 1 WRU)' : k.kind === SESSION_KIND ? '≤ 1 WRU' : '',
        met: k === track ? k.wru <= 2 && k.rru <= 1 : k.kind === SESSION_KIND ? k.wru <= 1 : undefined,
      });
    rows.push({
      id: '1',
      measure: 'WRU / RRU per event: data-set mix',
      value: `${fmt(dsWru)} / ${fmt(dsRru)} (${fmt(dsTally.itemsWritten / ds.events.length, 1)} items)`,
      goal: '≤ 2 / ≤ 1.5',
      met: dsWru <= 2 && dsRru <= 1.5,
    });
    rows.push({
      id: '2',
      measure: 'items written per merge, 10 vs 1,000 past events',
      value: `${merges[0]!.itemsWritten} vs ${merges[1]!.itemsWritten} (${fmt(merges[0]!.wru, 0)} vs ${fmt(merges[1]!.wru, 0)} WRU)`,
      goal: 'the same',
      met: merges[0]!.itemsWritten === merges[1]!.itemsWritten,
    });
    const ingestRatio = ingestLoad.rps / bareLoad.rps;
    rows.push({
      id: '3',
      measure: 'ingest req/s: endpoint vs bare JSON server',
      value: `${fmt(ingestLoad.rps, 0)} vs ${fmt(bareLoad.rps, 0)} = ${fmt(ingestRatio)}`,
      goal: '≥ 0.5',
      met: ingestRatio >= 0.5,
    });
    const e2eRatio = pipelineRate / rawRate;
    rows.push({
      id: '4',
      measure: 'pipeline events/s vs raw PutItem of the same items',
      value: `${fmt(pipelineRate, 0)} vs ${fmt(rawRate, 0)} = ${fmt(e2eRatio)}`,
      goal: '≥ 0.7',
      met: e2eRatio >= 0.7,
    });
    const latRatio = Math.max(latency.apiP50 / latency.rawP50, latency.apiP95 / latency.rawP95);
    rows.push({
      id: '5',
      measure: `profile API p50/p95 ms vs its ${fmt(latency.readsPerRequest, 1)} raw reads`,
      value: `${fmt(latency.apiP50, 1)}/${fmt(latency.apiP95, 1)} vs ${fmt(latency.rawP50, 1)}/${fmt(latency.rawP95, 1)} = ${fmt(latency.apiP50 / latency.rawP50, 1)}×/${fmt(latency.apiP95 / latency.rawP95, 1)}×`,
      goal: '≤ 2×',
      met: latRatio <= 2,
    });
    for (const r of rules)
      rows.push({
        id: '6',
        measure: `rule evaluation, ${r.rules} rules`,
        value: `${fmt(r.usPerEvent, 1)} µs/event`,
        goal: r.rules === 1000 ? '< 1,000 µs' : '',
        met: r.rules === 1000 ? r.usPerEvent < 1000 : undefined,
      });
    for (const b of bundles)
      rows.push({
        id: '7',
        measure: `${b.fn} bundle / module init`,
        value: `${fmt(b.bytes / 1024, 0)} KB / ${fmt(b.initMs, 0)} ms`,
        goal: '≤ 200 KB / ≤ 100 ms',
        met: b.bytes <= 200 * 1024 && b.initMs <= 100,
      });
    rows.push({
      id: '7',
      measure: 'reference: require() of the runtime SDK (client-dynamodb + lib-dynamodb) alone',
      value: `${fmt(sdkInitMs, 0)} ms`,
      goal: '',
    });
    for (let i = 0; i < cost.length; i++) {
      const c = cost[i]!;
      const f = floor[i]!;
      const parts = Object.entries(c.byService)
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${k} ${fmt(v, 3)}`)
        .join(', ');
      rows.push({
        id: '8',
        measure: `$ per million events, batch ${c.batchSize} (floor; ratio)`,
        value: `$${fmt(c.total, 3)} ($${fmt(f.total, 3)}; ${fmt(c.total / f.total)}×): ${parts}`,
        goal: c.batchSize === 20 ? '≤ $1.60' : '',
        met: c.batchSize === 20 ? c.total <= 1.6 : undefined,
      });
    }
    {
      const parts = Object.entries(sessionCost.byService)
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${k} ${fmt(v, 3)}`)
        .join(', ');
      rows.push({
        id: '8',
        measure: '$ per million events, per-person batches of 20 (floor; ratio)',
        value: `$${fmt(sessionCost.total, 3)} ($${fmt(floor[1]!.total, 3)}; ${fmt(sessionCost.total / floor[1]!.total)}×): ${parts}`,
        goal: '≤ $1.10',
        met: sessionCost.total <= 1.1,
      });
    }
    for (const sc of scale)
      rows.push({
        id: '11',
        measure: `data-set mix at ${sc.users} users (${sc.events} events): WRU / RRU per event; $ per million at batch 20`,
        value: `${fmt(sc.wru)} / ${fmt(sc.rru)}; $${fmt(sc.costBatch20, 3)}`,
        goal: sc === scale[scale.length - 1] && scale.length > 1 ? 'flat (within 5 %)' : '',
        met:
          sc === scale[scale.length - 1] && scale.length > 1
            ? Math.abs(sc.wru - scale[0]!.wru) <= 0.05 * scale[0]!.wru && Math.abs(sc.rru - scale[0]!.rru) <= 0.05 * scale[0]!.rru
            : undefined,
      });
    rows.push({
      id: '9',
      measure: `event → action ms p50/p95 (queue poll ${QUEUE_POLL_MS} ms, stream poll ${STREAM_POLL_MS} ms)`,
      value: `${fmt(e2a.p50, 0)} / ${fmt(e2a.p95, 0)} (n=${e2a.n})`,
      goal: '',
    });
    rows.push({
      id: '3',
      measure: 'collect handler: events validated per second per core (in-process)',
      value: `${fmt(collectThroughput.eventsPerSecond, 0)} events/s`,
      goal: '',
    });

    rows.push({
      id: '10',
      measure: `debugger, no session: DynamoDB per ${consoleCost.idle.requests} collect requests over ${consoleCost.idle.seconds} s (one container)`,
      value: `${consoleCost.idle.reads} reads (${fmt(consoleCost.idle.rru, 1)} RRU), ${consoleCost.idle.writes} writes`,
      goal: 'no write; ≤ 1 read / 2 s',
      met: consoleCost.idle.writes === 0 && consoleCost.idle.reads <= consoleCost.idle.seconds / 2,
    });
    rows.push({
      id: '10',
      measure: 'debugger, session open: WRU per event, batch 1 / batch 20',
      value: `${fmt(consoleCost.watching.batch1WruPerEvent)} / ${fmt(consoleCost.watching.batch20WruPerEvent)}`,
      goal: '',
    });
    rows.push({
      id: '10',
      measure: `counters: WRU per stitch batch of ${consoleCost.counters.eventsPerBatch} (per event)`,
      value: `${fmt(consoleCost.counters.wruPerBatch)} (${fmt(consoleCost.counters.wruPerEvent)})`,
      goal: 'no write per event',
      met: consoleCost.counters.wruPerEvent < 1,
    });
    log('audiences: backfill vs a raw parallel scan, its cost per million profiles, exit delay…');
    // Its own DynamoDB Local: the shared one, busy with this run's tables and stream pollers, made
    // the seeding and the backfill crawl (ratio 0.02 in an earlier run).
    const audiences = await benchAudiences({ log });
    rows.push(...audienceRows(audiences));
    printTable(rows);
    const results = {
      date: new Date().toISOString(),
      command: `npm run bench -- --users ${users} --seed ${seed}`,
      machine: host,
      dataset: { seed, users, events: ds.events.length, meanEventBytes: Math.round(eventBytes) },
      pollIntervalsMs: { queue: QUEUE_POLL_MS, stream: STREAM_POLL_MS },
      capacityPerEvent: kinds.map((k) => ({ kind: k.kind, wru: r2(k.wru), rru: r2(k.rru), itemsWritten: r2(k.items) })),
      datasetMix: {
        wruPerEvent: r2(dsWru),
        rruPerEvent: r2(dsRru),
        itemsWrittenPerEvent: r2(dsTally.itemsWritten / ds.events.length),
        dynamoCallsPerEvent: r2(dsTally.calls / ds.events.length),
        conditionFailedPerEvent: r2(dsTally.conditionFailed / ds.events.length),
        busEventsPerEvent: r2(busPerEvent),
      },
      sessionCost,
      scale,
      ingestRounds,
      merge: merges,
      ingest: {
        endpointRps: r2(ingestLoad.rps),
        bareRps: r2(bareLoad.rps),
        ratio: r2(ingestRatio),
        connections: 10,
        seconds: 5,
        collectEventsPerSecondPerCore: r2(collectThroughput.eventsPerSecond),
      },
      pipeline: {
        events: ds.events.length,
        seconds: r2(pipelineSeconds),
        eventsPerSecond: r2(pipelineRate),
        rawItems,
        rawSeconds: r2(rawSeconds),
        rawEventsPerSecond: r2(rawRate),
        ratio: r2(e2eRatio),
      },
      profileLatencyMs: Object.fromEntries(Object.entries(latency).map(([k, v]) => [k, r2(v)])),
      rules: { source: rulesSource, results: rules.map((r) => ({ rules: r.rules, usPerEvent: r2(r.usPerEvent) })) },
      bundles: bundles.map((b) => ({ ...b, initMs: r2(b.initMs) })),
      sdkInitMs: r2(sdkInitMs),
      cost: {
        prices: PRICES,
        assumedCallMs: ASSUMED_CALL_MS,
        collectCpuMs: { batch1: r2(collectMs1), batch20: r2(collectMs20) },
        dynamoCallsPerEvent: r2(callsPerEvent),
        localDynamoCallMs: r2(dsTally.ms / Math.max(1, dsTally.calls)),
        perMillionEvents: cost,
        floor,
        ratioToFloor: cost.map((c, i) => r2(c.total / floor[i]!.total)),
      },
      eventToActionMs: { p50: r2(e2a.p50), p95: r2(e2a.p95), samples: e2a.n },
      console: consoleCost,
      audiences,
      rows,
    };
    writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    log(`results written to bench/results.json; ${rows.filter((r) => r.met === false).length} goal(s) missed`);
  } finally {
    process.off('SIGINT', stopOnSignal);
    for (const s of servers) await new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r())));
    await rt.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function printTable(rows: readonly Row[]): void {
  const status = (r: Row) => (r.met === undefined ? '' : r.met ? 'met' : 'MISSED');
  const cols = [
    ['#', ...rows.map((r) => r.id)],
    ['measure', ...rows.map((r) => r.measure)],
    ['value', ...rows.map((r) => r.value)],
    ['goal', ...rows.map((r) => r.goal)],
    ['', ...rows.map(status)],
  ];
  const lines = ['', `| ${cols.map((c) => c[0]).join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`];
  for (let i = 0; i < rows.length; i++) lines.push(`| ${cols.map((c) => c[i + 1]).join(' | ')} |`);
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
