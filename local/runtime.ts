/**
 * The whole CDP on one machine: DynamoDB Local, the same handler modules as the cloud, a local
 * queue in place of SQS, DynamoDB Local's stream feeding `evaluate`, and a bus that writes to
 * stdout and `bus.jsonl`.
 */
import './quiet';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { localDynamoConfig } from '../adapters/dynamo/client';
import { DynamoProfileStore } from '../adapters/dynamo/profile-store';
import { DynamoHistoryStore } from '../adapters/dynamo/history-store';
import { DynamoPersonalizationStore } from '../adapters/dynamo/personalization-store';
import { DynamoRuleStore } from '../adapters/dynamo/rule-store';
import { DynamoMembershipStore } from '../adapters/dynamo/membership-store';
import { DynamoJobStore } from '../adapters/dynamo/job-store';
import { DynamoProfileScanner } from '../adapters/dynamo/profile-scanner';
import { LocalJobRunner, startSweeper } from './jobs';
import { LocalJobFiles } from './job-files';
import { type SyncOutcome, syncComputedDefinitions } from '../app/computed-recompute';
import { DynamoComputedDigestStore, DynamoRecomputeStore } from '../adapters/dynamo/computed-recompute-store';
import { DynamoDueStore } from '../adapters/dynamo/due-store';
import { BootstrapKeyStore, envLoader, SourceKeyStore } from '../adapters/keys';
import { DynamoRejectedStore } from '../adapters/dynamo/rejected-store';
import { DynamoMessageLog } from '../adapters/dynamo/message-log';
import { DynamoEvaluationFailures } from '../adapters/dynamo/evaluation-failures';
import { DynamoDebugStore } from '../adapters/dynamo/debug-store';
import { DynamoStatsStore } from '../adapters/dynamo/stats-store';
import { DebugTap } from '../app/debug';
import { createInsightsHandler } from '../lambdas/insights';
import type { IngestLimits } from '../core/ingest';
import { DEFAULT_SOURCE_RATE_LIMIT, SourceRateLimiter, type RateLimit } from '../core/rate-limit';
import { createAdminHandler } from '../lambdas/admin';
import { cachedRuleSet } from '../app/rules';
import { parseDefinition } from '../core/rules/engine';
import { CONFIG_FILE, loadConfig, parseConfig, type ScherpConfig, type ScherpConfigInput } from '../core/config';
import { createCollectHandler } from '../lambdas/collect';
import { createEvaluateHandler, ruleObservers } from '../lambdas/evaluate';
import type { ReplayResult } from '../app/replay-failures';
import { createProfileHandler } from '../lambdas/profile';
import { createIdentityHandler } from '../lambdas/identity';
import { finalSettle } from '../app/split';
import { createContextHandler } from '../lambdas/context';
import { createImportHandler } from '../lambdas/import';
import { DynamoComputedStore } from '../adapters/dynamo/computed-store';
import { createRulesHandler } from '../lambdas/rules';
import { createStitchHandler } from '../lambdas/stitch';
import { LocalBus } from './bus';
import { ensureTable, startDynamoLocal, type DynamoLocal } from './dynamodb-local';
import { DEFAULT_MAX_RECEIVES, LocalQueue, type LocalQueueOptions } from './queue';
import { LocalQueueMonitor } from './queue-monitor';
import { LocalScheduler } from './scheduler';
import { startServer } from './server';
import { consoleBundle } from './console-assets';
import { JsonlRejectedStore } from './rejected';
import { JsonlFileCopies } from './jsonl';
import { StreamPoller } from './stream';
import { FaultInjector, type FaultPlan } from './faults';
import { FileDeadLetters } from './dead-letters';
import { createFileImportHandler } from '../lambdas/fileImport';
import { FolderImporter, FolderObjectStore, LOCAL_BUCKET } from './file-drop';
import { acquireRuntimeLock, type RuntimeLock } from './runtime-lock';
import { LocalSourceStore } from './source-folders';

export interface Keys {
  readonly write: string;
  readonly read: string;
  readonly admin: string;
  /** The secret back ends sign `POST /v1/context` user tokens with (`core/user-token.ts`). */
  readonly userToken: string;
}

export interface RuntimeOptions {
  /** HTTP port; 0 picks a free one. @default 8080 */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /**
   * Where data, bus output and dead letters go; one runtime at a time (`runtime.lock`).
   * @default `SCHERP_DATA_DIR`, else `.scherp`; in memory: a temporary folder removed at stop
   */
  readonly dataDir?: string;
  /** Keep DynamoDB in memory (a throwaway run). @default false */
  readonly inMemory?: boolean;
  /** Use this DynamoDB endpoint instead of starting DynamoDB Local. */
  readonly dynamoEndpoint?: string;
  /** @default 'scherp' */
  readonly tableName?: string;
  /** Keys to accept; any that are missing are generated (and kept in `keys.json` unless in memory). */
  readonly keys?: Partial<Keys>;
  /** Rule files to seed into the table. @default `rules/` */
  readonly rulesDir?: string;
  /** Print bus events to stdout. @default false */
  readonly printBus?: boolean;
  readonly queue?: LocalQueueOptions;
  /** Stream poll interval, ms. @default 50 */
  readonly streamPollMs?: number;
  /** Attempts of a failing stream batch before its first record is given up (stream-failures.jsonl). @default 5 */
  readonly streamMaxRetries?: number;
  /** Stream records older than this are given up unevaluated, as the construct prop `evaluateMaxRecordAge`. @default no limit */
  readonly streamMaxRecordAgeMs?: number;
  /** Inject faults (chaos tests): DynamoDB errors, crashes, bus failures, duplicate deliveries. */
  readonly faults?: FaultPlan;
  /** collect limits (as the construct props). @default Segment's: 32 KB, 500 KB, 2,500 */
  readonly limits?: Partial<IngestLimits>;
  /**
   * Per-source request limit of collect and `POST /v1/context` (as the construct props
   * `sourceRateLimit` / `sourceBurstLimit`; one process: one bucket per source). `false`: none.
   * @default 500 requests/s, burst 1000
   */
  readonly sourceRateLimit?: RateLimit | false;
  /** CORS allowed origins (as the construct prop). @default ['*'] */
  readonly corsAllowedOrigins?: readonly string[];
  /** Days a (source, messageId) pair is remembered to drop repeats. @default 7 */
  readonly dedupeWindowDays?: number;
  /** Days a timeline event is kept (its TTL, as the construct prop `eventRetentionDays`). @default 400 */
  readonly eventRetentionDays?: number;
  /** The configuration; wins over `configFile`. */
  readonly config?: ScherpConfigInput;
  /** A JSON configuration file. @default `scherp.config.json` in the working directory, if it exists */
  readonly configFile?: string;
  /** How often the import folder (`<dataDir>/bucket/imports/`) is looked at, ms. @default 1000 */
  readonly importPollMs?: number;
  /** Days dropped import files and reports are kept (`npm start`: 30, as the stack's bucket). @default - until deleted */
  readonly importRetentionDays?: number;
  /** How often memberships due for a re-check are swept (time-based exits), ms. @default 60000 */
  readonly sweepIntervalMs?: number;
  /** Segments of a job worked on at once (the local job pool). @default 4 */
  readonly jobWorkers?: number;
  /** Called with the runtime's DynamoDB client before first use (the bench attaches its capacity meter). */
  readonly onDynamoClient?: (client: DynamoDBClient) => void;
}

/** The configuration of a local run: given, else from the file (a missing default file: all defaults). */
export function resolveConfig(opts: Pick<RuntimeOptions, 'config' | 'configFile'>): ScherpConfig {
  if (opts.config !== undefined) return parseConfig(opts.config);
  const file = resolve(opts.configFile ?? CONFIG_FILE);
  if (opts.configFile === undefined && !existsSync(file)) return parseConfig(undefined);
  try {
    return loadConfig(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}

export interface Runtime {
  readonly url: string;
  readonly keys: Keys;
  readonly tableName: string;
  readonly dynamoEndpoint: string;
  readonly dataDir: string;
  /** The data folder is a temporary one (in memory, none chosen), removed at stop. */
  readonly temporaryDataDir: boolean;
  readonly bus: LocalBus;
  readonly queue: LocalQueue;
  /** The stream consumer feeding `evaluate` (`idleSince` tells tests when it has caught up). */
  readonly stream: StreamPoller;
  readonly deadLetters: FileDeadLetters;
  /** Present when started with `faults`: what was injected. */
  readonly faults?: FaultInjector;
  /** Timers of delayed actions. */
  readonly scheduler: LocalScheduler;
  /** The local job engine (audience backfills). */
  readonly jobs: LocalJobRunner;
  /** What start-up found of the computed-trait definitions: unchanged, recorded, or a recompute job started. */
  readonly computedSync: SyncOutcome;
  /** The import bucket's folder (`<dataDir>/bucket`) and its poller. */
  readonly bucketDir: string;
  readonly imports: FolderImporter;
  /** Evaluates the stream records evaluate gave up on again, from their items (as `{ scherpReplayFailures: {} }` in the cloud). */
  replayStreamFailures(): Promise<ReplayResult>;
  stop(): Promise<void>;
}

function newKey(): string {
  return randomBytes(16).toString('hex');
}

function resolveKeys(given: Partial<Keys>, file: string | undefined): Keys {
  const stored: Partial<Keys> = file && existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const keys: Keys = {
    write: given.write || stored.write || newKey(),
    read: given.read || stored.read || newKey(),
    admin: given.admin || stored.admin || newKey(),
    userToken: given.userToken || stored.userToken || newKey() + newKey(),
  };
  if (file) writeFileSync(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  return keys;
}

/** Reads and validates every rule file; a broken file stops the start with its name. */
export function loadRuleFiles(dir: string): { id: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      try {
        return parseDefinition(JSON.parse(readFileSync(join(dir, f), 'utf8')));
      } catch (err) {
        throw new Error(`rules/${f}: ${(err as Error).message}`);
      }
    });
}

export async function startRuntime(opts: RuntimeOptions = {}): Promise<Runtime> {
  const inMemory = opts.inMemory ?? false;
  const config = resolveConfig(opts);
  const chosenDir = opts.dataDir ?? process.env.SCHERP_DATA_DIR;
  // In memory without a chosen folder: the files (bus, rejected, dead letters, import bucket) go
  // to a temporary folder removed at stop, so nothing is left in `.scherp/`.
  const scratch = inMemory && !chosenDir;
  const dataDir = scratch ? mkdtempSync(join(tmpdir(), 'scherp-in-memory-')) : resolve(chosenDir ?? '.scherp');
  mkdirSync(dataDir, { recursive: true });
  const removeScratch = () => scratch && rmSync(dataDir, { recursive: true, force: true });
  let lock: RuntimeLock;
  try {
    lock = acquireRuntimeLock(dataDir);
  } catch (err) {
    removeScratch();
    throw err;
  }
  const releaseDir = () => {
    lock.release();
    removeScratch();
  };
  const tableName = opts.tableName ?? 'scherp';

  let dynamoLocal: DynamoLocal | undefined;
  let endpoint: string;
  try {
    endpoint =
      opts.dynamoEndpoint ?? (dynamoLocal = await startDynamoLocal({ dataDir: inMemory ? undefined : join(dataDir, 'dynamodb') })).endpoint;
  } catch (err) {
    releaseDir();
    throw err;
  }
  const faults = opts.faults ? new FaultInjector(opts.faults) : undefined;
  const client = new DynamoDBClient({
    ...localDynamoConfig(endpoint),
    ...(faults ? { retryStrategy: FaultInjector.retryStrategy() } : {}),
  });
  opts.onDynamoClient?.(client);
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const stoppers: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const s of stoppers.reverse()) await s();
    client.destroy();
    await dynamoLocal?.stop();
    releaseDir();
  };

  try {
    const created = await ensureTable(client, tableName);
    const ruleStore = new DynamoRuleStore(doc, tableName);
    for (const rule of loadRuleFiles(opts.rulesDir ?? resolve('rules'))) await ruleStore.putRuleDoc(rule);

    const keys = resolveKeys(opts.keys ?? {}, inMemory ? undefined : join(dataDir, 'keys.json'));
    const keyStore = new BootstrapKeyStore({ write: envLoader(keys.write), read: envLoader(keys.read), admin: envLoader(keys.admin) });
    const bucketDir = join(dataDir, 'bucket');
    const objects = new FolderObjectStore(bucketDir);
    const sources = new LocalSourceStore(doc, tableName, objects);
    await sources.createFolders();
    // Short cache locally so a revocation shows at once in manual tests.
    const writeKeys = new SourceKeyStore(keyStore, (d) => sources.findKey(d), { positiveTtlMs: 1000, negativeTtlMs: 1000 });
    const rejected = new JsonlRejectedStore(new DynamoRejectedStore(doc, { tableName }), join(dataDir, 'rejected.jsonl'));
    const messages = new DynamoMessageLog(doc, { tableName, windowDays: opts.dedupeWindowDays });
    const store = new DynamoProfileStore(doc, { tableName, retentionDays: opts.eventRetentionDays });
    const bus = new LocalBus({ file: join(dataDir, 'bus.jsonl'), print: opts.printBus ?? false });
    const deadLetters = new FileDeadLetters(join(dataDir, 'dlq.jsonl'), (bodies) => queue.sendBodies(bodies));
    const queue: LocalQueue = new LocalQueue({
      journalFile: inMemory ? undefined : join(dataDir, 'queue.jsonl'),
      duplicate: faults && (() => faults.duplicate()),
      ...opts.queue,
      onDeadLetter: (l) => deadLetters.append(l),
    });

    const rules = cachedRuleSet(ruleStore, { ttlMs: 1000 });
    const sourceLimit = opts.sourceRateLimit === false ? undefined : (opts.sourceRateLimit ?? DEFAULT_SOURCE_RATE_LIMIT);
    const collectLimiter = sourceLimit && new SourceRateLimiter(sourceLimit);
    const contextLimiter = sourceLimit && new SourceRateLimiter(sourceLimit);
    // The debugger: collect's tap and the insights API share the tap, so a session shows at once.
    const debugStore = new DynamoDebugStore(doc, { tableName });
    const debugTap = new DebugTap(debugStore, {
      onError: (err) => process.stderr.write(`scherp: debug copy not kept: ${(err as Error).name}\n`),
    });
    const stats = new DynamoStatsStore(doc, tableName);
    const collect = createCollectHandler(() => ({
      keys: writeKeys,
      queue,
      rejected,
      limits: opts.limits,
      rateLimiter: collectLimiter,
      debug: debugTap,
      stats,
    }));
    const insights = createInsightsHandler(() => ({ keys: keyStore, debug: debugStore, tap: debugTap, stats }));
    const evaluationFailures = new DynamoEvaluationFailures(doc, tableName);
    const health = { queues: new LocalQueueMonitor(queue, deadLetters, evaluationFailures), failures: evaluationFailures };
    const admin = createAdminHandler(() => ({ keys: keyStore, sources, rejected, deadLetters }));
    // Erasure reaches the local files holding copies (the scheduler is created below).
    const copies = () => [
      debugStore,
      bus,
      queue,
      new JsonlFileCopies('dlq.jsonl', join(dataDir, 'dlq.jsonl'), (l) => (l as { body?: string }).body),
      new JsonlFileCopies('stream-failures.jsonl', join(dataDir, 'stream-failures.jsonl')),
      scheduler,
    ];
    const notReached = [
      {
        store: 'bucket/ (import files and reports)',
        holds: 'dropped import files and their reports',
        expiresWithin: opts.importRetentionDays === undefined ? 'until you delete them' : `${opts.importRetentionDays} days`,
      },
    ];
    const parts = new DynamoPersonalizationStore(doc, tableName);
    const profile = createProfileHandler(() => ({
      keys: keyStore,
      store,
      rejected,
      config,
      copies: copies(),
      notReached,
      memberships: parts,
    }));
    // A split files its final settle pass in the due index; the sweeper below runs it.
    const dueStore = new DynamoDueStore(doc, tableName);
    const identity = createIdentityHandler(() => ({ keys: keyStore, store, config, computed, due: dueStore }));
    const context = createContextHandler(() => ({
      writeKeys,
      store,
      config,
      userTokenSecret: envLoader(keys.userToken),
      rateLimiter: contextLimiter,
    }));
    const importer = createImportHandler(() => ({ keys: keyStore, queue, sources, config }));
    const stitch = createStitchHandler(() => ({
      store,
      config,
      messages,
      stats,
      deadLetters: { sink: deadLetters, maxReceives: opts.queue?.maxReceives ?? DEFAULT_MAX_RECEIVES },
    }));
    const history = new DynamoHistoryStore(doc, tableName);
    const scheduler = new LocalScheduler((job) => evaluate({ scherpDelayed: job }));
    stoppers.push(() => scheduler.stop());
    const computed = { store: new DynamoComputedStore(doc, tableName), defs: config.computed };
    const evaluate = createEvaluateHandler(
      () => ({
        store,
        reader: store,
        stats,
        bus: faults ? faults.bus(bus) : bus,
        rules,
        parts,
        history,
        scheduler,
        computed,
        ...ruleObservers,
      }),
      () => evaluationFailures,
    );
    const members = new DynamoMembershipStore(doc, tableName);
    // Jobs (audience backfills): the same segment worker as the cloud, in an in-process pool.
    const jobStore = new DynamoJobStore(doc, tableName);
    // Export parts go to a folder in the data folder (the cloud: the jobs bucket).
    const jobFiles = new LocalJobFiles(join(dataDir, 'job-files'));
    // Computed traits recomputed when their definitions change (`app/computed-recompute.ts`).
    const recompute = {
      defs: config.computed,
      computed: new DynamoRecomputeStore(doc, tableName, store),
      digests: new DynamoComputedDigestStore(doc, tableName),
      retentionDays: opts.eventRetentionDays ?? 400,
    };
    const jobs = new LocalJobRunner(
      () => ({
        jobs: jobStore,
        rules: ruleStore,
        scanner: new DynamoProfileScanner(doc, tableName),
        store,
        parts,
        history,
        bus,
        members,
        files: jobFiles,
        recompute,
      }),
      { workers: opts.jobWorkers, onError: (id, err) => process.stderr.write(`scherp: job ${id}: ${(err as Error).message}\n`) },
    );
    stoppers.push(() => jobs.stop());
    // Time-based exits: the due memberships swept every minute (as the cloud's schedule).
    const sweeper = startSweeper(
      {
        due: dueStore,
        rules: ruleStore,
        store,
        parts,
        history,
        bus,
        settleSplit: (keptId, splitId) =>
          finalSettle({ store, identity: config.identity, traits: config.traits, computed }, keptId, splitId),
      },
      opts.sweepIntervalMs ?? 60_000,
    );
    stoppers.push(() => sweeper.stop());
    const backfills = { jobs: jobStore, launcher: jobs };
    const rulesApi = createRulesHandler(() => ({
      keys: keyStore,
      rules: ruleStore,
      store,
      parts,
      history,
      health,
      members,
      backfills,
      files: jobFiles,
      retentionDays: opts.eventRetentionDays ?? 400,
    }));

    const table = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const streamArn = table.Table?.LatestStreamArn;
    if (!streamArn) throw new Error(`table ${tableName} has no stream`);
    const checkpointFile = join(dataDir, 'stream-checkpoint.json');
    const saved = !inMemory && !created && existsSync(checkpointFile) ? JSON.parse(readFileSync(checkpointFile, 'utf8')) : {};
    const checkpoints = saved.streamArn === streamArn ? (saved.shards as Record<string, string>) : {};
    const streams = new DynamoDBStreamsClient(localDynamoConfig(endpoint));
    const poller = new StreamPoller(streams, {
      streamArn,
      // A new table: read it all. An old one without a checkpoint: only what comes from now on.
      startAt: created || inMemory ? 'TRIM_HORIZON' : 'LATEST',
      checkpoints,
      pollMs: opts.streamPollMs,
      maxRetries: opts.streamMaxRetries,
      maxRecordAgeMs: opts.streamMaxRecordAgeMs,
      onCheckpoint: inMemory ? undefined : (shards) => writeFileSync(checkpointFile, JSON.stringify({ streamArn, shards })),
      duplicate: faults && (() => faults.duplicate()),
      // As the cloud's failure queue: sequence numbers only (the records' keys are noted in the table).
      onFailure: (failure) => appendFileSync(join(dataDir, 'stream-failures.jsonl'), `${JSON.stringify(failure)}\n`),
    });
    // Faults start now that setup is done, before any handler runs.
    faults?.instrument(client);
    poller.start(evaluate);
    stoppers.push(
      () => streams.destroy(),
      () => poller.stop(),
    );
    queue.start(stitch);
    stoppers.push(() => queue.stop());
    await jobs.resume();
    const computedSync = await syncComputedDefinitions({ ...recompute, jobs: jobStore, launcher: jobs });
    const imports = new FolderImporter({
      objects,
      pollMs: opts.importPollMs,
      retentionDays: opts.importRetentionDays,
      onGiveUp: (key) => process.stderr.write(`scherp: import of ${key} failed 3 times; change the file to try again\n`),
      onIgnored: (key, reason) => process.stderr.write(`scherp: ${key} is not imported: ${reason}\n`),
    });
    imports.start(createFileImportHandler(() => ({ bucket: LOCAL_BUCKET, objects, queue, jobs: imports, sources, config })));
    stoppers.push(() => imports.stop());

    const server: Server = await startServer(
      { collect, profile, context, admin, rules: rulesApi, import: importer, insights, identity },
      opts.port ?? 8080,
      opts.host ?? '127.0.0.1',
      {
        corsAllowedOrigins: opts.corsAllowedOrigins,
        console: await consoleBundle(),
      },
    );
    stoppers.push(
      () =>
        new Promise<void>((r) => {
          server.closeAllConnections?.();
          server.close(() => r());
        }),
    );
    const addr = server.address() as { port: number; address: string };
    const url = `http://${opts.host ?? '127.0.0.1'}:${addr.port}`;
    // Tells `scherp dlq` (and a second start) which runtime owns the folder.
    lock.setUrl(url);
    return {
      url,
      keys,
      tableName,
      dynamoEndpoint: endpoint,
      dataDir,
      temporaryDataDir: scratch,
      bus,
      queue,
      stream: poller,
      deadLetters,
      faults,
      scheduler,
      jobs,
      computedSync,
      bucketDir,
      imports,
      replayStreamFailures: () => evaluate({ scherpReplayFailures: {} }),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
