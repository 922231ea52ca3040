import { CfnOutput, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { MEMBERS_INDEX, MEMBERS_INDEX_ATTRIBUTES, MEMBERS_INDEX_PK, MEMBERS_INDEX_SK, TTL_ATTRIBUTE } from '../adapters/dynamo/keys';
import { parseConfig, type ScherpConfigInput } from '../core/config';
import { DEFAULT_INGEST_LIMITS, DEFAULT_STITCH_BATCH_SIZE } from '../core/ingest';
import { DEFAULT_SOURCE_RATE_LIMIT } from '../core/rate-limit';
import { MAX_API_BODY_BYTES } from '../lambdas/shared/aws-limits';
import { ENV } from '../lambdas/shared/env';
import { SOURCES_READ, ScherpAdmin } from './admin';
import { ScherpApi } from './api';
import { ScherpConsole } from './console';
import { ScherpJobs } from './jobs';
import { ScherpComputedRecompute } from './computed-recompute';
import { bindTable } from './bind';
import { type DestinationsProps, ScherpDestinations } from './destinations';
import { EVENT_SOURCE, ScherpEvaluation } from './evaluation';
import { ScherpFileImport } from './file-import';
import { ScherpIngest } from './ingest';
import { type ScherpSecrets, ScherpKeys } from './keys';
import { monitoredResources, type ScherpAlarmThresholds, ScherpMonitoring } from './monitoring';
import { ack } from './nag';
import { keepPlatformLogicalIds } from './naming';
import { ScherpProfiles } from './profiles';
import { seedRuleDocuments } from './rule-seeding';
import { isRuleDocument, loadRules, type RuleDocument, ruleDocumentErrors } from './rules';
import { DEFAULT_FUNCTION_SIZING, type FunctionSizing, type ScherpFunctionName, type ScherpLogLevel } from './scherp-function';
import { STITCH_BATCHING_WINDOW, ScherpStitch } from './stitch';

/** What the example rule logs of a bus event: its type, event id, profile and dedupe ids. */
const ACTIONS_LOG_EVENT = targets.LogGroupTargetInput.fromObjectV2({
  timestamp: events.EventField.time,
  message: `${events.EventField.detailType} id=${events.EventField.eventId} profile=${events.EventField.fromPath('$.detail.profileId')} dedupe=${events.EventField.fromPath('$.detail.dedupeId')}`,
});

export interface CustomerDataPlatformProps {
  /**
   * What happens to the DynamoDB table (profiles, identities, timeline, rules) when it is
   * removed from the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Receives of an ingest message before SQS moves it to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;

  /**
   * Retention of every log group the construct creates (functions, API access log, actions).
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * `POWERTOOLS_LOG_LEVEL` of every function.
   * @default 'INFO'
   */
  readonly logLevel?: ScherpLogLevel;

  /**
   * Days a timeline event is kept before its TTL removes it (`EVENT_RETENTION_DAYS` of `stitch`).
   * @default 400
   */
  readonly eventRetentionDays?: number;

  /**
   * Memory and timeout per function; unspecified values keep their defaults. The ingest
   * queue's visibility timeout follows the `stitch` timeout (six times it plus the batching window).
   * @default - collect, profile and context 512 MB / 10 s, stitch and evaluate 512 MB / 30 s, admin, insights and console 256 MB / 10 s
   */
  readonly functionSizing?: { readonly [name in ScherpFunctionName]?: Partial<FunctionSizing> };

  /**
   * Origins allowed by the HTTP API's CORS preflight.
   * @default ['*']
   */
  readonly corsAllowedOrigins?: string[];

  /**
   * Largest event `collect` accepts, in bytes of its JSON (`MAX_EVENT_BYTES`). A bigger single
   * call is a 413; a bigger batch item is rejected by index.
   * @default 32768 (Segment's 32 KB)
   */
  readonly maxEventBytes?: number;

  /**
   * Largest request body `collect` accepts, in bytes after decompression (`MAX_REQUEST_BYTES`);
   * bigger is a 413. At most 4,669,440 (about 4.45 MB): the API Gateway event must fit Lambda's
   * 6 MB synchronous payload, and a base64-encoded (binary or gzip) body grows by 4/3.
   * @default 512000 (Segment's 500 KB)
   */
  readonly maxRequestBytes?: number;

  /**
   * Most events in one `/v1/batch` request (`MAX_BATCH_EVENTS`); more is a 413.
   * @default 2500 (Segment's limit)
   */
  readonly maxBatchEvents?: number;

  /**
   * Days a (source, messageId) pair is remembered: a repeat within the window is dropped by
   * `stitch` (`DEDUPE_WINDOW_DAYS`).
   * @default 7
   */
  readonly dedupeWindowDays?: number;

  /**
   * Days rejected events are kept for `GET /v1/rejected` (`REJECTED_RETENTION_DAYS`); erasure
   * and export of a person search that many days (plus today).
   * @default 7
   */
  readonly rejectedRetentionDays?: number;

  /**
   * Bucket whose files under `imports/<source>/` (CSV, NDJSON) are imported as that source's
   * traits; a report per file goes to `reports/`. The construct adds the bucket notification.
   * @default - a new private, encrypted, SSL-only bucket (output `ImportBucketName`)
   */
  readonly importBucket?: s3.IBucket;

  /**
   * Days files and reports stay in the import bucket the construct creates (not applied to a
   * given `importBucket`).
   * @default 30
   */
  readonly importRetentionDays?: number;

  /**
   * Steady-state request rate (requests per second) of the API's default stage; requests over
   * the rate and burst get a 429 from API Gateway.
   * @default 1000
   */
  readonly throttlingRateLimit?: number;

  /**
   * Burst capacity (requests) of the API's default stage.
   * @default 2000
   */
  readonly throttlingBurstLimit?: number;

  /**
   * Rate and burst of each route of the read and admin keys (profiles, export, erasure, sources,
   * rules, import, dead letters): their own API Gateway buckets, apart from the ingest routes
   * (`lib/api-throttling.ts`), which get `throttlingRateLimit` / `throttlingBurstLimit` each.
   * @default 100 requests/s, burst 200, per route
   */
  readonly adminThrottlingRateLimit?: number;
  /** @default 200 */
  readonly adminThrottlingBurstLimit?: number;

  /**
   * Per-source request limit of collect and `POST /v1/context` (`SOURCE_RATE_LIMIT`,
   * `SOURCE_BURST_LIMIT`): a token bucket per source in each function container's memory, so a
   * source gets at most this per container (reserve collect's concurrency with
   * `functionSizing.collect.reservedConcurrency` to bound the total); over it, a 429 with
   * `Retry-After`. A source created with its own `rateLimit` uses that instead.
   * @default 500 requests/s, burst 1000
   */
  readonly sourceRateLimit?: number;
  /** @default 1000 */
  readonly sourceBurstLimit?: number;

  /**
   * Maximum SQS messages per `stitch` invocation (1 to 10000; batches are also cut after 1 s).
   * @default 100
   */
  readonly stitchBatchSize?: number;

  /**
   * Most concurrent `stitch` invocations the ingest queue's mapping starts (2 to 1000): a burst
   * waits in the queue instead of taking the account's concurrency from collect and the APIs.
   * @default 20
   */
  readonly stitchMaxConcurrency?: number;

  /**
   * Retries of a failed DynamoDB stream batch before it goes to the stream-failure queue
   * (0 to 10000; failing batches are bisected first).
   * @default 5
   */
  readonly evaluateRetryAttempts?: number;

  /**
   * Stream records older than this are not evaluated any more and go to the stream-failure
   * queue (60 s to 7 days), where `scherp stream-failures` can re-read them from the table (see
   * docs/reliability.md). Leave it unset: a backlog is then evaluated however old it gets
   * (within the stream's 24 hours).
   * @default - no limit
   */
  readonly evaluateMaxRecordAge?: Duration;

  /**
   * Name of the EventBridge bus actions are put on.
   * @default - a name derived from the construct path, unique per stack
   */
  readonly eventBusName?: string;

  /**
   * How long the archive keeps events whose source is `scherp` (whole days, at least one).
   * @default Duration.days(30)
   */
  readonly archiveRetention?: Duration;

  /**
   * Directory whose `*.json` files are seeded into the table as rules at deploy time.
   * Ignored when `rules` is given. `DEFAULT_RULES_DIR` is Scherp's example rules (`rules/`,
   * shipped in the package); this repository's own stack (`lib/scherp-stack.ts`) seeds them.
   * @default - no directory: no rules are seeded (manage them with the admin API)
   */
  readonly rulesDir?: string;

  /**
   * Rules to seed, as parsed documents (each needs a unique string `id`).
   * @default - every `*.json` file of `rulesDir`; none without it
   */
  readonly rules?: RuleDocument[];

  /**
   * Prefix of the stack outputs' names. The outputs have stable names (`ApiUrl`, `TableName`,
   * `EventBusName`, …, not hashed construct paths); give each platform a prefix when one stack
   * holds more than one.
   * @default '' (outputs named `ApiUrl`, `TableName`, …)
   */
  readonly outputPrefix?: string;

  /**
   * Where bus events go: SES email, API destinations (Meta, Google Ads, webhooks), other targets.
   * @default - none
   */
  readonly destinations?: DestinationsProps;

  /**
   * Adds the example rule copying every action into a CloudWatch log group (output
   * `ActionsLogGroupName`). EventBridge needs a CloudWatch Logs resource policy to write there,
   * and an account has at most 10 per region, so it is off unless asked for.
   * @default false
   */
  readonly exampleLogTarget?: boolean;
  /**
   * Scherp's configuration (see `core/config.ts` and README "Configuration"): identifier types
   * and where they are read from, merge-protection limits, blocked values. Validated at synth
   * and passed to the functions as `SCHERP_CONFIG` (JSON, at most 3,000 bytes of UTF-8).
   * @default - every default of `ScherpConfigSchema`
   */
  readonly config?: ScherpConfigInput;

  /**
   * Where the alarms (dead letters, stream age, function errors and throttles, API 5xx and
   * latency, rejected events, DynamoDB and EventBridge failures; docs/operations.md) notify.
   * @default - a new KMS-encrypted, SSL-only topic (`monitoring.alarmTopic`); subscribe to it
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Alarm thresholds (`lib/monitoring.ts`); unspecified values keep their defaults: any dead
   * letter, error, throttle or failed delivery; stream iterator age 5 min; API 5xx 1 % and p99
   * 2 s for 15 min; rejected events 10 % for 15 min.
   * @default DEFAULT_ALARM_THRESHOLDS
   */
  readonly alarmThresholds?: ScherpAlarmThresholds;
}

/** Lambda allows 4 KB of environment per function; the rest is left for the other variables. */
const MAX_CONFIG_JSON = 3000;

/** The handlers, by name. */
export type ScherpFunctions = Readonly<Record<ScherpFunctionName, NodejsFunction>>;

/** The bootstrap keys' type and the bus events' source, where they were before the per-stage split. */
export type { ScherpSecrets } from './keys';
export { EVENT_SOURCE } from './evaluation';

type ResolvedProps = Required<
  Omit<
    CustomerDataPlatformProps,
    | 'eventBusName'
    | 'rules'
    | 'rulesDir'
    | 'functionSizing'
    | 'destinations'
    | 'config'
    | 'importBucket'
    | 'evaluateMaxRecordAge'
    | 'alarmTopic'
    | 'alarmThresholds'
  >
> & {
  readonly evaluateMaxRecordAge?: Duration;
  readonly eventBusName?: string;
  readonly rulesDir?: string;
  readonly importBucket?: s3.IBucket;
  readonly destinations?: DestinationsProps;
  readonly rules?: RuleDocument[];
  readonly config?: ScherpConfigInput;
  readonly functionSizing: Record<ScherpFunctionName, FunctionSizing>;
};

const DEFAULTS: Omit<ResolvedProps, 'functionSizing'> = {
  removalPolicy: RemovalPolicy.RETAIN,
  maxReceiveCount: 5,
  logRetention: logs.RetentionDays.ONE_MONTH,
  logLevel: 'INFO',
  eventRetentionDays: 400,
  corsAllowedOrigins: ['*'],
  maxEventBytes: DEFAULT_INGEST_LIMITS.maxEventBytes,
  maxRequestBytes: DEFAULT_INGEST_LIMITS.maxRequestBytes,
  maxBatchEvents: DEFAULT_INGEST_LIMITS.maxBatchEvents,
  dedupeWindowDays: 7,
  rejectedRetentionDays: 7,
  importRetentionDays: 30,
  throttlingRateLimit: 1000,
  throttlingBurstLimit: 2000,
  adminThrottlingRateLimit: 100,
  adminThrottlingBurstLimit: 200,
  sourceRateLimit: DEFAULT_SOURCE_RATE_LIMIT.rate,
  sourceBurstLimit: DEFAULT_SOURCE_RATE_LIMIT.burst,
  stitchBatchSize: DEFAULT_STITCH_BATCH_SIZE,
  stitchMaxConcurrency: 20,
  evaluateRetryAttempts: 5,
  archiveRetention: Duration.days(30),
  outputPrefix: '',
  exampleLogTarget: false,
};

/** API Gateway HTTP APIs give up on an integration after 30 s. */
const API_INTEGRATION_LIMIT = Duration.seconds(30);

/**
 * Scherp's whole serverless Customer Data Platform, composed of one construct per stage:
 *
 * `HTTP API (ScherpApi) → collect (ScherpIngest) → SQS → stitch (ScherpStitch) → DynamoDB
 * (stream) → evaluate (ScherpEvaluation) → EventBridge`, plus the read side (`ScherpProfiles`:
 * profile, context, insights), the admin key's functions (`ScherpAdmin`), the bootstrap keys
 * (`ScherpKeys`), file import, destinations, monitoring, and the rules seeded from `rules` or
 * `rulesDir` (none by default). Each stage owns its functions, their environment and grants
 * (set together, `lib/bind.ts`), event sources and cdk-nag acknowledgments.
 */
export class CustomerDataPlatform extends Construct {
  /** The single table (see `adapters/dynamo/keys.ts` for its layout). */
  public readonly table: dynamodb.TableV2;
  /** Ingest queue: `collect` sends accepted events, `stitch` consumes them. */
  public readonly queue: sqs.Queue;
  /** Where ingest messages land after `maxReceiveCount` failed receives. */
  public readonly deadLetterQueue: sqs.Queue;
  /**
   * Where the stream mapping sends the batches `evaluate` gave up on: the shard and sequence
   * numbers, not the records; `scherp stream-failures` re-reads them (docs/reliability.md).
   */
  public readonly streamFailureQueue: sqs.Queue;
  /** Custom bus `evaluate` (and `stitch`) put actions on. */
  public readonly bus: events.EventBus;
  /** Log group the example rule copies every `scherp` event into (with `exampleLogTarget` only). */
  public readonly actionsLogGroup?: logs.LogGroup;
  /** The public API. */
  public readonly httpApi: apigwv2.HttpApi;
  /** The handlers. */
  public readonly functions: ScherpFunctions;
  /** Schedule group of delayed actions (one-time schedules that invoke `evaluate`). */
  public readonly scheduleGroup: scheduler.ScheduleGroup;
  /** Role EventBridge Scheduler assumes to invoke `evaluate` for delayed actions. */
  public readonly schedulerRole: iam.Role;
  /** Where delayed-action invocations go when they keep failing (scheduler delivery or the function). */
  public readonly delayedActionsDeadLetterQueue: sqs.Queue;
  /** The import bucket, its queue and the importer (`functions.fileImport`). */
  public readonly fileImport: ScherpFileImport;
  /** The jobs state machine and its worker (`functions.jobs`): audience backfills, time-based exits. */
  public readonly jobs: ScherpJobs;
  /** The destinations, when `destinations` is given. */
  public readonly destinations?: ScherpDestinations;
  /** The bootstrap keys. */
  public readonly secrets: ScherpSecrets;
  /** Alarms, their topic and the dashboard (docs/operations.md). */
  public readonly monitoring: ScherpMonitoring;
  /** Base URL of the API's default stage (ends with `/`). */
  public readonly apiUrl: string;

  constructor(scope: Construct, id: string, props: CustomerDataPlatformProps = {}) {
    super(scope, id);
    const config = resolveProps(props);
    validateProps(config);
    const rules = config.rules ?? (config.rulesDir === undefined ? [] : loadRules(config.rulesDir));
    validateRules(rules);
    const { functionSizing: sizing, logRetention, logLevel } = config;
    const logging = { logRetention, logLevel };
    const configEnv = configEnvironment(config);

    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      dynamoStream: dynamodb.StreamViewType.NEW_IMAGE,
      // The one secondary index: an audience's members (sparse, keys from adapters/dynamo/table-def.ts).
      globalSecondaryIndexes: [membersIndex()],
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      removalPolicy: config.removalPolicy,
    });
    const table = this.table;

    // The stages whose resources were the platform's own children before the split keep those
    // logical IDs (keepPlatformLogicalIds at the end), so a deployed stack updates in place.
    const keysStage = new ScherpKeys(this, 'Keys');
    this.secrets = keysStage.secrets;

    const ingest = new ScherpIngest(this, 'Ingest', {
      table,
      writeKey: this.secrets.writeKey,
      collectSizing: sizing.collect,
      consumer: { timeout: sizing.stitch.timeout, batchingWindow: STITCH_BATCHING_WINDOW },
      maxReceiveCount: config.maxReceiveCount,
      limits: config,
      ...logging,
    });
    ({ queue: this.queue, deadLetterQueue: this.deadLetterQueue } = ingest);

    const evaluation = new ScherpEvaluation(this, 'Evaluation', {
      table,
      sizing: sizing.evaluate,
      eventBusName: config.eventBusName,
      archiveRetention: config.archiveRetention,
      retryAttempts: config.evaluateRetryAttempts,
      maxRecordAge: config.evaluateMaxRecordAge,
      configEnvironment: configEnv,
      ...logging,
    });
    ({
      bus: this.bus,
      streamFailureQueue: this.streamFailureQueue,
      scheduleGroup: this.scheduleGroup,
      schedulerRole: this.schedulerRole,
      delayedActionsDeadLetterQueue: this.delayedActionsDeadLetterQueue,
    } = evaluation);

    const stitch = new ScherpStitch(this, 'Stitch', {
      table,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      bus: this.bus,
      sizing: sizing.stitch,
      maxReceiveCount: config.maxReceiveCount,
      batchSize: config.stitchBatchSize,
      maxConcurrency: config.stitchMaxConcurrency,
      eventRetentionDays: config.eventRetentionDays,
      dedupeWindowDays: config.dedupeWindowDays,
      configEnvironment: configEnv,
      ...logging,
    });

    const profiles = new ScherpProfiles(this, 'Profiles', {
      table,
      secrets: this.secrets,
      sizing,
      rejectedRetentionDays: config.rejectedRetentionDays,
      archiveRetentionDays: config.archiveRetention.toDays(),
      importRetentionDays: config.importRetentionDays,
      sourceRateLimit: config.sourceRateLimit,
      sourceBurstLimit: config.sourceBurstLimit,
      configEnvironment: configEnv,
      ...logging,
    });

    const admin = new ScherpAdmin(this, 'Admin', {
      table,
      adminKey: this.secrets.adminKey,
      readKey: this.secrets.readKey,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      healthQueues: [
        { name: 'ingest', queue: this.queue, deadLetterQueue: this.deadLetterQueue },
        { name: 'evaluate-stream-failures', deadLetterQueue: this.streamFailureQueue },
        { name: 'delayed-actions', deadLetterQueue: this.delayedActionsDeadLetterQueue },
      ],
      sizing,
      rejectedRetentionDays: config.rejectedRetentionDays,
      eventRetentionDays: config.eventRetentionDays,
      configEnvironment: configEnv,
      ...logging,
    });

    this.fileImport = new ScherpFileImport(this, 'FileImport', {
      bucket: config.importBucket,
      retentionDays: config.importRetentionDays,
      removalPolicy: config.removalPolicy,
      ingestQueue: this.queue,
      sizing: sizing.fileImport,
      ...logging,
      environment: configEnv,
    });
    // fileImport reads the sources too (its bucket and queues are granted by ScherpFileImport).
    bindTable(this.fileImport.function, table, SOURCES_READ);

    // Jobs (audience backfills) on Step Functions over parallel-scan segments, and the
    // every-minute sweep of time-based exits (lib/jobs.ts); storing an audience starts one.
    this.jobs = new ScherpJobs(this, 'Jobs', {
      table,
      bus: this.bus,
      sizing: sizing.jobs,
      ...logging,
      environment: { [ENV.TABLE_NAME]: table.tableName, [ENV.EVENT_RETENTION_DAYS]: String(config.eventRetentionDays), ...configEnv },
    });
    this.jobs.grantStart(admin.rules);
    // Computed traits recomputed at deploy when their definitions change (lib/computed-recompute.ts).
    new ScherpComputedRecompute(this, 'ComputedRecompute', { jobs: this.jobs, config: config.config, after: [evaluation.evaluate] });

    // The console, from the same origin as the API (docs/architecture.md "Console").
    const consoleStage = new ScherpConsole(this, 'Console', { sizing: sizing.console, ...logging });

    this.functions = {
      collect: ingest.collect,
      stitch: stitch.stitch,
      evaluate: evaluation.evaluate,
      profile: profiles.profile,
      context: profiles.context,
      import: admin.import,
      admin: admin.admin,
      rules: admin.rules,
      identity: admin.identity,
      insights: profiles.insights,
      fileImport: this.fileImport.function,
      console: consoleStage.function,
      jobs: this.jobs.worker,
    };

    const api = new ScherpApi(this, 'Api', {
      functions: this.functions,
      consoleFunction: consoleStage.function,
      corsAllowedOrigins: config.corsAllowedOrigins,
      ingestThrottle: { rateLimit: config.throttlingRateLimit, burstLimit: config.throttlingBurstLimit },
      adminThrottle: { rateLimit: config.adminThrottlingRateLimit, burstLimit: config.adminThrottlingBurstLimit },
      logRetention,
    });
    this.httpApi = api.httpApi;
    this.apiUrl = api.url;

    if (config.exampleLogTarget) this.actionsLogGroup = this.createExampleRule(config);
    if (config.destinations) {
      this.destinations = new ScherpDestinations(this, 'Destinations', {
        ...config.destinations,
        bus: this.bus,
        source: EVENT_SOURCE,
        ...logging,
      });
    }
    this.monitoring = new ScherpMonitoring(this, 'Monitoring', {
      alarmTopic: props.alarmTopic,
      thresholds: props.alarmThresholds,
      ...monitoredResources(this),
    });
    this.seedRules(rules);
    this.createOutputs(config.outputPrefix);
    this.acknowledgeNagFindings();
    keepPlatformLogicalIds([keysStage, ingest, evaluation, stitch, profiles, admin, api]);
  }

  /**
   * One rule on the bus so a deployer can watch actions arrive in CloudWatch Logs. The example
   * log group keeps a month of every bus event: only its type and ids (fields every bus event
   * has), never the user id, email, data or explanation, so erasure leaves nothing there.
   */
  private createExampleRule(config: ResolvedProps): logs.LogGroup {
    const logGroup = new logs.LogGroup(this, 'ActionsLogs', { retention: config.logRetention });
    const rule = new events.Rule(this, 'ActionsToLogsRule', {
      eventBus: this.bus,
      description: `Copies every ${EVENT_SOURCE} action into a log group (example; add your own rules)`,
      eventPattern: { source: [EVENT_SOURCE] },
      targets: [new targets.CloudWatchLogGroup(logGroup, { installLatestAwsSdk: false, logEvent: ACTIONS_LOG_EVENT })],
    });
    ack(
      rule,
      'Serverless-EventBusDLQ',
      'Example rule writing actions to a log group for visibility only; a lost log line is acceptable and not worth a queue.',
    );
    return logGroup;
  }

  /** Writes every rule into the table at deploy time and deletes it when it leaves the set. */
  private seedRules(rules: RuleDocument[]): void {
    seedRuleDocuments(new Construct(this, 'Rules'), this.table, rules);
  }

  /** Stack outputs under stable names (`<outputPrefix>ApiUrl`, …), as the README lists them. */
  private createOutputs(prefix: string): void {
    const outputs: Record<string, [string, string]> = {
      ApiUrl: [this.apiUrl, 'Base URL of the Scherp API'],
      WriteKeySecretArn: [this.secrets.writeKey.secretArn, 'Secret holding the write key (collect API)'],
      ReadKeySecretArn: [this.secrets.readKey.secretArn, 'Secret holding the read key (profile API)'],
      AdminKeySecretArn: [this.secrets.adminKey.secretArn, 'Secret holding the admin key (sources and rejected-events API)'],
      UserTokenSecretArn: [this.secrets.userTokenSecret.secretArn, 'Secret your back end signs POST /v1/context user tokens with'],
      TableName: [this.table.tableName, 'DynamoDB table'],
      EventBusName: [this.bus.eventBusName, 'EventBridge bus actions are put on'],
      QueueUrl: [this.queue.queueUrl, 'Ingest queue'],
      ImportBucketName: [this.fileImport.bucket.bucketName, 'Bucket whose files under imports/<source>/ are imported'],
      DeadLetterQueueUrl: [this.deadLetterQueue.queueUrl, 'Ingest dead-letter queue'],
      AlarmTopicArn: [this.monitoring.alarmTopic.topicArn, 'SNS topic every alarm notifies (docs/operations.md)'],
      DashboardName: [this.monitoring.dashboard.dashboardName, 'CloudWatch dashboard of this deployment'],
      ConsoleUrl: [`${this.apiUrl}console/`, 'The console (sign in with the admin or the read key)'],
    };
    if (this.actionsLogGroup)
      outputs.ActionsLogGroupName = [this.actionsLogGroup.logGroupName, 'Log group receiving every action (example rule)'];
    for (const [id, [value, description]] of Object.entries(outputs))
      new CfnOutput(this, id, { value, description }).overrideLogicalId(`${prefix}${id}`);
  }

  /**
   * Acknowledgments of cdk-nag findings on what CDK adds at stack level for this construct's
   * custom resources; each stage acknowledges its own findings.
   */
  private acknowledgeNagFindings(): void {
    const stack = Stack.of(this);
    const provider = stack.node.tryFindChild(`AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`);
    if (provider) {
      const why =
        'CDK-managed singleton function that runs the AwsCustomResource calls (rule seeding, log group resource policy) during deployments only.';
      ack(
        provider,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        `${why} Its role is created by CDK with the basic execution policy.`,
      );
      for (const id of ['Serverless-LambdaDefaultMemorySize', 'Serverless-LambdaDLQ', 'Serverless-LambdaTracing']) {
        ack(provider, id, `${why} Its memory and settings are chosen by CDK; CloudFormation retries failed calls itself.`);
      }
    }
    for (const c of stack.node.children.filter((c) => c.node.id.startsWith('EventsLogGroupPolicy'))) {
      ack(
        c,
        'AwsSolutions-IAM5[Resource::*]',
        'logs:PutResourcePolicy and logs:DeleteResourcePolicy do not support resource-level permissions; CDK uses them to let EventBridge write to the actions log group.',
      );
    }
  }
}

/** The configuration as the user gave it (small); each function fills in the defaults. */
function configEnvironment(config: ResolvedProps): Record<string, string> {
  return config.config === undefined ? {} : { [ENV.CONFIG]: JSON.stringify(config.config) };
}

/** Defaults first, caller props after (an explicit `undefined` keeps the default). */
function resolveProps(props: CustomerDataPlatformProps): ResolvedProps {
  const given = Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined)) as CustomerDataPlatformProps;
  const sizing = (name: ScherpFunctionName): FunctionSizing => ({
    ...DEFAULT_FUNCTION_SIZING[name],
    ...Object.fromEntries(Object.entries(given.functionSizing?.[name] ?? {}).filter(([, v]) => v !== undefined)),
  });
  return {
    ...DEFAULTS,
    ...given,
    functionSizing: {
      collect: sizing('collect'),
      stitch: sizing('stitch'),
      evaluate: sizing('evaluate'),
      profile: sizing('profile'),
      context: sizing('context'),
      admin: sizing('admin'),
      rules: sizing('rules'),
      import: sizing('import'),
      fileImport: sizing('fileImport'),
      insights: sizing('insights'),
      console: sizing('console'),
      identity: sizing('identity'),
      jobs: sizing('jobs'),
    },
  };
}

/** Rejects values AWS would reject at deploy time, so mistakes surface at synth. */
function validateProps(p: ResolvedProps): void {
  const errors: string[] = [];
  const intIn = (name: string, v: number, min: number, max: number) => {
    if (!Token.isUnresolved(v) && (!Number.isInteger(v) || v < min || v > max)) {
      errors.push(`${name} must be an integer from ${min} to ${max} (got ${v})`);
    }
  };
  intIn('maxReceiveCount', p.maxReceiveCount, 1, 1000);
  intIn('eventRetentionDays', p.eventRetentionDays, 1, 36500);
  intIn('throttlingBurstLimit', p.throttlingBurstLimit, 0, 5000);
  intIn('adminThrottlingRateLimit', p.adminThrottlingRateLimit, 0, 10000);
  intIn('adminThrottlingBurstLimit', p.adminThrottlingBurstLimit, 0, 5000);
  intIn('sourceRateLimit', p.sourceRateLimit, 1, 100000);
  intIn('sourceBurstLimit', p.sourceBurstLimit, 1, 200000);
  intIn('stitchBatchSize', p.stitchBatchSize, 1, 10000);
  intIn('stitchMaxConcurrency', p.stitchMaxConcurrency, 2, 1000);
  intIn('evaluateRetryAttempts', p.evaluateRetryAttempts, 0, 10000);
  // A body must fit Lambda's 6 MB synchronous payload, base64-encoded when it is binary or gzip.
  intIn('maxEventBytes', p.maxEventBytes, 1024, MAX_API_BODY_BYTES);
  intIn('maxRequestBytes', p.maxRequestBytes, 1024, MAX_API_BODY_BYTES);
  intIn('maxBatchEvents', p.maxBatchEvents, 1, 100000);
  intIn('dedupeWindowDays', p.dedupeWindowDays, 1, 365);
  intIn('rejectedRetentionDays', p.rejectedRetentionDays, 1, 365);
  intIn('importRetentionDays', p.importRetentionDays, 1, 36500);
  if (!Token.isUnresolved(p.throttlingRateLimit) && !(p.throttlingRateLimit >= 0 && Number.isFinite(p.throttlingRateLimit))) {
    errors.push(`throttlingRateLimit must be a non-negative number (got ${p.throttlingRateLimit})`);
  }
  const recordAge = p.evaluateMaxRecordAge?.toSeconds();
  if (recordAge !== undefined && (recordAge < 60 || recordAge > 604800))
    errors.push(`evaluateMaxRecordAge must be from 60 seconds to 7 days`);
  const archiveDays = p.archiveRetention.toDays({ integral: false });
  if (!Number.isInteger(archiveDays) || archiveDays < 1) errors.push('archiveRetention must be a whole number of days, at least 1');
  if (p.corsAllowedOrigins.length === 0 || p.corsAllowedOrigins.some((o) => !o)) {
    errors.push('corsAllowedOrigins must list at least one non-empty origin');
  }
  if (!/^[A-Za-z0-9]*$/.test(p.outputPrefix))
    errors.push(`outputPrefix "${p.outputPrefix}" must be letters and digits only (it starts CloudFormation output names)`);
  if (
    p.eventBusName !== undefined &&
    !Token.isUnresolved(p.eventBusName) &&
    (!/^[/.\-_A-Za-z0-9]{1,256}$/.test(p.eventBusName) || p.eventBusName === 'default')
  ) {
    errors.push(`eventBusName "${p.eventBusName}" must be 1-256 characters of A-Z a-z 0-9 . - _ / and not "default"`);
  }
  for (const [name, { memorySize, timeout }] of Object.entries(p.functionSizing)) {
    intIn(`functionSizing.${name}.memorySize`, memorySize, 128, 10240);
    const seconds = timeout.toSeconds();
    const max =
      name === 'collect' ||
      name === 'profile' ||
      name === 'context' ||
      name === 'admin' ||
      name === 'rules' ||
      name === 'import' ||
      name === 'console' ||
      name === 'identity'
        ? API_INTEGRATION_LIMIT.toSeconds()
        : 900;
    if (seconds < 1 || seconds > max) errors.push(`functionSizing.${name}.timeout must be from 1 to ${max} seconds`);
  }
  if (p.config !== undefined) {
    try {
      parseConfig(p.config);
      // Lambda counts the environment in bytes (UTF-8), not in UTF-16 units.
      const size = Buffer.byteLength(JSON.stringify(p.config), 'utf8');
      if (size > MAX_CONFIG_JSON) errors.push(`config must serialise to at most ${MAX_CONFIG_JSON} bytes of JSON (got ${size})`);
    } catch (err) {
      errors.push(`config: ${(err as Error).message}`);
    }
  }
  if (errors.length > 0) throw new Error(`Invalid CustomerDataPlatform props:\n- ${errors.join('\n- ')}`);
}

function validateRules(rules: readonly unknown[]): asserts rules is RuleDocument[] {
  const seen = new Set<string>();
  for (const rule of rules) {
    if (!isRuleDocument(rule)) throw new Error('every rule must be an object with a non-empty string "id"');
    if (seen.has(rule.id)) throw new Error(`duplicate rule id "${rule.id}"`);
    seen.add(rule.id);
  }
  // The same schema as the rules API: a rule the functions would skip as invalid fails the synth.
  const invalid = (rules as RuleDocument[]).flatMap((rule) => ruleDocumentErrors(rule).map((e) => `rule "${rule.id}": ${e}`));
  if (invalid.length > 0) throw new Error(`Invalid rules:\n- ${invalid.join('\n- ')}`);
}

/** The `members` index as the cloud declares it: the keys and projection of `tableDefinition` (adapters/dynamo/table-def.ts). */
function membersIndex(): dynamodb.GlobalSecondaryIndexPropsV2 {
  return {
    indexName: MEMBERS_INDEX,
    partitionKey: { name: MEMBERS_INDEX_PK, type: dynamodb.AttributeType.STRING },
    sortKey: { name: MEMBERS_INDEX_SK, type: dynamodb.AttributeType.STRING },
    projectionType: dynamodb.ProjectionType.INCLUDE,
    nonKeyAttributes: [...MEMBERS_INDEX_ATTRIBUTES],
  };
}
