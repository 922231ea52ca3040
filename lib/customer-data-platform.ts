import { ArnFormat, CfnOutput, Duration, Fn, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import {
  AUDIENCE_PK_PREFIX,
  DEBUG_PK_PREFIX,
  EVENT_SK_PREFIX,
  keys,
  MERGE_SK_PREFIX,
  REJECTED_PK_PREFIX,
  SOURCES_PK,
  STATS_PK_PREFIX,
  TTL_ATTRIBUTE,
} from '../adapters/dynamo/keys';
import { DEFAULT_INGEST_LIMITS } from '../core/ingest';
import { DEFAULT_SOURCE_RATE_LIMIT } from '../core/rate-limit';
import { throttleRoutes } from './api-throttling';
import { parseConfig, type ScherpConfigInput } from '../core/config';
import { ENV } from '../lambdas/shared/env';
import { MAX_API_BODY_BYTES } from '../lambdas/shared/aws-limits';
import { API_ROUTES, CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS, type ApiFunction } from '../lambdas/routes';
import { isRuleDocument, loadRules, type RuleDocument, ruleDocumentErrors } from './rules';
import { ScherpDestinations, type DestinationsProps } from './destinations';
import { ScherpFileImport } from './file-import';
import { ScherpJobs } from './jobs';
import { monitoredResources, ScherpMonitoring, type ScherpAlarmThresholds } from './monitoring';
import { seedRuleDocuments } from './rule-seeding';
import { ack } from './nag';
import {
  createScherpFunction,
  DEFAULT_FUNCTION_SIZING,
  type FunctionSizing,
  type ScherpFunctionName,
  type ScherpLogLevel,
} from './scherp-function';

/** Properties of {@link CustomerDataPlatform}. Every property is optional. */
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
   * @default - collect, profile and context 512 MB / 10 s, stitch and evaluate 512 MB / 30 s, admin 256 MB / 10 s
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
   * @default 10
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

/** The three bootstrap keys, each a Secrets Manager secret holding a plain 32-char string. */
export interface ScherpSecrets {
  /** Write key: HTTP Basic user of the collect API. */
  readonly writeKey: secretsmanager.Secret;
  /** Read key: bearer of the profile API. */
  readonly readKey: secretsmanager.Secret;
  /** Admin key: bearer of the admin APIs (sources, keys, rejected events, rules and audiences). */
  readonly adminKey: secretsmanager.Secret;
  /** Signs `POST /v1/context` user tokens: your back end reads it and mints them (README "Personalising a page"). */
  readonly userTokenSecret: secretsmanager.Secret;
}

/** The handlers, by name. */
export type ScherpFunctions = Readonly<Record<ScherpFunctionName, NodejsFunction>>;

/** EventBridge `source` of every action Scherp emits. */
export const EVENT_SOURCE = 'scherp';

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
  stitchBatchSize: 10,
  stitchMaxConcurrency: 20,
  evaluateRetryAttempts: 5,
  archiveRetention: Duration.days(30),
  outputPrefix: '',
  exampleLogTarget: false,
};

/** SQS batches are cut after this long even when `stitchBatchSize` is not reached. */
const STITCH_BATCHING_WINDOW = Duration.seconds(1);
/** API Gateway HTTP APIs give up on an integration after 30 s. */
const API_INTEGRATION_LIMIT = Duration.seconds(30);

/**
 * Scherp's whole serverless Customer Data Platform:
 *
 * `HTTP API → collect → SQS → stitch → DynamoDB (stream) → evaluate → EventBridge`, plus
 * `GET /v1/profiles/{id} → profile`, `POST /v1/context → context` (the public write key's read,
 * with a role of its own), three bootstrap-key secrets and the rules seeded from
 * `rules` or `rulesDir` (none by default).
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
  /** The jobs state machine and its worker (`functions.jobs`). */
  public readonly jobs: ScherpJobs;
  /** The import bucket, its queue and the importer (`functions.fileImport`). */
  public readonly fileImport: ScherpFileImport;
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

    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      dynamoStream: dynamodb.StreamViewType.NEW_IMAGE,
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      removalPolicy: config.removalPolicy,
    });

    ({ queue: this.queue, deadLetterQueue: this.deadLetterQueue } = this.createIngestQueues(config));
    this.streamFailureQueue = new sqs.Queue(this, 'StreamFailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.DENY_ALL },
    });

    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: config.eventBusName ?? Names.uniqueResourceName(this, { separator: '-', maxLength: 200 }),
    });
    this.bus.archive('Archive', {
      description: `Every ${EVENT_SOURCE} event`,
      eventPattern: { source: [EVENT_SOURCE] },
      retention: config.archiveRetention,
    });

    this.secrets = {
      writeKey: this.createKeySecret('WriteKey', 'write'),
      readKey: this.createKeySecret('ReadKey', 'read'),
      adminKey: this.createKeySecret('AdminKey', 'admin'),
      userTokenSecret: this.createKeySecret('UserTokenSecret', 'user-token signing'),
    };

    // Not retained, and named after the stack's id: a stack destroyed and deployed again gets a
    // new group, even while the old one is still being deleted (a group only holds the pending
    // one-time schedules, which die with the stack's function).
    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'DelayedActions', {
      scheduleGroupName: `${Names.uniqueResourceName(this, { separator: '-', maxLength: 27 })}-${stackGuid(this)}`,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'EventBridge Scheduler invoking Scherp evaluate for delayed actions',
    });
    this.delayedActionsDeadLetterQueue = new sqs.Queue(this, 'DelayedActionsDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.DENY_ALL },
    });

    this.fileImport = new ScherpFileImport(this, 'FileImport', {
      bucket: config.importBucket,
      retentionDays: config.importRetentionDays,
      removalPolicy: config.removalPolicy,
      ingestQueue: this.queue,
      sizing: config.functionSizing.fileImport,
      logRetention: config.logRetention,
      logLevel: config.logLevel,
      environment: { [ENV.TABLE_NAME]: this.table.tableName, ...configEnvironment(config) },
    });
    // Jobs (audience backfills): Step Functions Map over parallel-scan segments (lib/jobs.ts).
    this.jobs = new ScherpJobs(this, 'Jobs', {
      table: this.table,
      bus: this.bus,
      sizing: config.functionSizing.jobs,
      logRetention: config.logRetention,
      logLevel: config.logLevel,
      environment: { [ENV.TABLE_NAME]: this.table.tableName },
    });
    this.functions = { ...this.createFunctions(config), fileImport: this.fileImport.function, jobs: this.jobs.worker };
    this.grantLeastPrivilege();
    this.connectEventSources(config);

    const { api, stage } = this.createApi(config);
    this.httpApi = api;
    this.apiUrl = stage.url;

    if (config.exampleLogTarget) this.actionsLogGroup = this.createExampleRule(config);
    if (config.destinations) {
      this.destinations = new ScherpDestinations(this, 'Destinations', {
        ...config.destinations,
        bus: this.bus,
        source: EVENT_SOURCE,
        logRetention: config.logRetention,
        logLevel: config.logLevel,
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
  }

  private createIngestQueues(config: ResolvedProps): { queue: sqs.Queue; deadLetterQueue: sqs.Queue } {
    // The ingest queue gets a name known before it exists so the DLQ's redrive allow policy can
    // name it (a GetAtt in both directions would be a circular dependency). The name ends with
    // the stack's id, so a stack destroyed and deployed again within SQS's 60 s of name
    // reservation gets another name.
    const queueName = `${Names.uniqueResourceName(this, { separator: '-', maxLength: 36 })}-${stackGuid(this)}`;
    const queueArn = Stack.of(this).formatArn({ service: 'sqs', resource: queueName, arnFormat: ArnFormat.NO_RESOURCE_NAME });

    const deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      redriveAllowPolicy: { sourceQueues: [sqs.Queue.fromQueueArn(this, 'IngestQueueRef', queueArn)] },
    });
    const stitch = config.functionSizing.stitch;
    const queue = new sqs.Queue(this, 'Queue', {
      queueName,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS guidance for Lambda consumers: at least 6x the function timeout plus the batching window.
      visibilityTimeout: Duration.seconds(stitch.timeout.toSeconds() * 6 + STITCH_BATCHING_WINDOW.toSeconds()),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: config.maxReceiveCount },
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.DENY_ALL },
    });
    return { queue, deadLetterQueue };
  }

  private createKeySecret(id: string, role: string): secretsmanager.Secret {
    return new secretsmanager.Secret(this, id, {
      description: `Scherp ${role} key (plain string)`,
      generateSecretString: { passwordLength: 32, excludePunctuation: true, includeSpace: false },
    });
  }

  private createFunctions(config: ResolvedProps): Omit<ScherpFunctions, 'fileImport' | 'jobs'> {
    const scherpConfig = configEnvironment(config);
    const sourceLimitEnv = {
      [ENV.SOURCE_RATE_LIMIT]: String(config.sourceRateLimit),
      [ENV.SOURCE_BURST_LIMIT]: String(config.sourceBurstLimit),
    };
    const make = (name: ScherpFunctionName, id: string, environment: Record<string, string>) =>
      createScherpFunction(this, id, {
        name,
        sizing: config.functionSizing[name],
        logRetention: config.logRetention,
        logLevel: config.logLevel,
        environment: { [ENV.TABLE_NAME]: this.table.tableName, ...environment },
      });
    return {
      collect: make('collect', 'Collect', {
        [ENV.QUEUE_URL]: this.queue.queueUrl,
        [ENV.WRITE_KEY_SECRET_ARN]: this.secrets.writeKey.secretArn,
        [ENV.MAX_EVENT_BYTES]: String(config.maxEventBytes),
        [ENV.MAX_REQUEST_BYTES]: String(config.maxRequestBytes),
        [ENV.MAX_BATCH_EVENTS]: String(config.maxBatchEvents),
        [ENV.REJECTED_RETENTION_DAYS]: String(config.rejectedRetentionDays),
        ...sourceLimitEnv,
      }),
      stitch: make('stitch', 'Stitch', {
        [ENV.EVENT_BUS_NAME]: this.bus.eventBusName,
        [ENV.EVENT_RETENTION_DAYS]: String(config.eventRetentionDays),
        // On the last receive stitch moves a failing message to the DLQ itself, with the reason.
        [ENV.DEAD_LETTER_QUEUE_URL]: this.deadLetterQueue.queueUrl,
        [ENV.MAX_RECEIVE_COUNT]: String(config.maxReceiveCount),
        [ENV.DEDUPE_WINDOW_DAYS]: String(config.dedupeWindowDays),
        ...scherpConfig,
      }),
      evaluate: make('evaluate', 'Evaluate', {
        [ENV.EVENT_BUS_NAME]: this.bus.eventBusName,
        [ENV.SCHEDULER_ROLE_ARN]: this.schedulerRole.roleArn,
        [ENV.SCHEDULER_GROUP_NAME]: this.scheduleGroup.scheduleGroupName,
        [ENV.SCHEDULER_DLQ_ARN]: this.delayedActionsDeadLetterQueue.queueArn,
        // Computed trait definitions (`computed`) are applied by evaluate.
        ...scherpConfig,
      }),
      // The read key authenticates profile reads; the admin key the export and erasure.
      profile: make('profile', 'Profile', {
        [ENV.READ_KEY_SECRET_ARN]: this.secrets.readKey.secretArn,
        [ENV.ADMIN_KEY_SECRET_ARN]: this.secrets.adminKey.secretArn,
        // Erasure and export search the retained days of rejected events.
        [ENV.REJECTED_RETENTION_DAYS]: String(config.rejectedRetentionDays),
        // The erasure answer names the stores it cannot reach with their bounds.
        [ENV.ARCHIVE_RETENTION_DAYS]: String(config.archiveRetention.toDays()),
        [ENV.IMPORT_RETENTION_DAYS]: String(config.importRetentionDays),
        ...scherpConfig,
      }),
      // The browser-safe POST /v1/context: the write key, user tokens, per-source limits.
      context: make('context', 'Context', {
        [ENV.WRITE_KEY_SECRET_ARN]: this.secrets.writeKey.secretArn,
        [ENV.USER_TOKEN_SECRET_ARN]: this.secrets.userTokenSecret.secretArn,
        ...sourceLimitEnv,
        ...scherpConfig,
      }),
      import: make('import', 'Import', {
        [ENV.QUEUE_URL]: this.queue.queueUrl,
        [ENV.ADMIN_KEY_SECRET_ARN]: this.secrets.adminKey.secretArn,
        ...scherpConfig,
      }),
      admin: make('admin', 'Admin', {
        [ENV.ADMIN_KEY_SECRET_ARN]: this.secrets.adminKey.secretArn,
        [ENV.REJECTED_RETENTION_DAYS]: String(config.rejectedRetentionDays),
        [ENV.QUEUE_URL]: this.queue.queueUrl,
        [ENV.QUEUE_ARN]: this.queue.queueArn,
        [ENV.DEAD_LETTER_QUEUE_URL]: this.deadLetterQueue.queueUrl,
        [ENV.DEAD_LETTER_QUEUE_ARN]: this.deadLetterQueue.queueArn,
      }),
      rules: make('rules', 'RulesAdmin', {
        [ENV.ADMIN_KEY_SECRET_ARN]: this.secrets.adminKey.secretArn,
        // The audience and job reads take the read key too.
        [ENV.READ_KEY_SECRET_ARN]: this.secrets.readKey.secretArn,
      }),
      insights: make('insights', 'Insights', {
        [ENV.READ_KEY_SECRET_ARN]: this.secrets.readKey.secretArn,
        [ENV.ADMIN_KEY_SECRET_ARN]: this.secrets.adminKey.secretArn,
      }),
    };
  }

  private grantLeastPrivilege(): void {
    const { collect, stitch, evaluate, profile, context, admin, rules } = this.functions;
    // collect: look up write keys and keep rejected events (only those items), enqueue, read
    // the write key. Nothing else.
    // collect also reads the debugger session marker (cached) and, while one is open, keeps debug entries (DBG#…).
    this.grantTableItems(
      collect,
      ['dynamodb:GetItem', 'dynamodb:BatchWriteItem'],
      [keys.writeKey('*').pk, `${REJECTED_PK_PREFIX}*`, `${DEBUG_PK_PREFIX}*`],
    );
    // collect: one ADD per request with rejected events to the hour's counters (the Overview).
    this.grantTableItems(collect, ['dynamodb:UpdateItem'], [`${STATS_PK_PREFIX}*`]);
    this.queue.grantSendMessages(collect);
    this.secrets.writeKey.grantRead(collect);
    // admin: sources, key listings and lookups (transactions of puts, updates and condition
    // checks), the rejected-event log; the admin key.
    this.grantTableItems(
      admin,
      ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'],
      [SOURCES_PK, keys.writeKey('*').pk, `${REJECTED_PK_PREFIX}*`],
    );
    this.secrets.adminKey.grantRead(admin);
    // admin, dead letters: peek, copy back and delete chosen letters, or move all of them with a
    // message-move task (which reads and deletes on the DLQ and sends to the ingest queue).
    this.deadLetterQueue.grant(
      admin,
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ChangeMessageVisibility',
      'sqs:StartMessageMoveTask',
      'sqs:ListMessageMoveTasks',
    );
    this.queue.grantSendMessages(admin);
    // stitch and evaluate: item reads and writes (no table administration), put actions.
    for (const fn of [stitch, evaluate]) {
      this.table.grantReadWriteData(fn);
      this.bus.grantPutEventsTo(fn);
    }
    // stitch dead-letters messages itself (with the reason) on their last receive.
    this.deadLetterQueue.grantSendMessages(stitch);
    // profile: reads, and erasure (DELETE /v1/profiles/…): batch deletes of the person's profile
    // partitions, identity items and rejected events naming them, and batch puts of suppression
    // markers, on those items only.
    this.table.grantReadData(profile);
    this.grantTableItems(
      profile,
      ['dynamodb:BatchWriteItem'],
      [keys.profile('*').pk, keys.identity('*', '*').pk, keys.suppressed('*').pk, `${REJECTED_PK_PREFIX}*`, `${DEBUG_PK_PREFIX}*`],
    );
    this.secrets.readKey.grantRead(profile);
    this.secrets.adminKey.grantRead(profile);
    // context (public write key): reads only, of what it serves: the visitor's identity item
    // (BatchGetItem), profile partitions (Query), write-key lookups (GetItem); the write key and
    // user-token secrets. No writes, no read or admin key.
    this.grantTableItems(context, ['dynamodb:BatchGetItem'], [keys.identity('*', '*').pk]);
    this.grantTableItems(context, ['dynamodb:Query'], [keys.profile('*').pk]);
    this.grantTableItems(context, ['dynamodb:GetItem'], [keys.writeKey('*').pk]);
    this.secrets.writeKey.grantRead(context);
    this.secrets.userTokenSecret.grantRead(context);
    // import: the sources (to find the named one), enqueue rows as identify events, the admin key.
    this.grantTableItems(this.functions.import, ['dynamodb:GetItem', 'dynamodb:Query'], [SOURCES_PK]);
    this.queue.grantSendMessages(this.functions.import);
    this.secrets.adminKey.grantRead(this.functions.import);
    // fileImport: the sources too (its bucket and queues are granted by ScherpFileImport).
    this.grantTableItems(this.functions.fileImport, ['dynamodb:GetItem', 'dynamodb:Query'], [SOURCES_PK]);
    // evaluate's stream read is granted by its event source.
    // evaluate: one-time schedules for delayed actions, run by the scheduler role, which may
    // invoke evaluate and dead-letter into the delayed-actions queue; nothing else.
    // Scheduler authorizes CreateSchedule on the schedule (`schedule/<group>/<name>`), not the group.
    this.scheduleGroup.grantWriteSchedules(evaluate);
    this.schedulerRole.grantPassRole(evaluate.grantPrincipal);
    this.schedulerRole.addToPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [evaluate.functionArn] }));
    this.delayedActionsDeadLetterQueue.grantSendMessages(this.schedulerRole);
    // A delayed check that fails in the function itself (async invoke) also lands in that queue.
    evaluate.configureAsyncInvoke({ retryAttempts: 2, onFailure: new SqsDestination(this.delayedActionsDeadLetterQueue) });
    // rules (admin API): the rule items, profile and timeline reads for dry runs and backtests.
    this.table.grant(
      rules,
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
    );
    this.secrets.adminKey.grantRead(rules);
    // rules: the audience reads take the read key; storing an audience starts its backfill job.
    this.secrets.readKey.grantRead(rules);
    this.jobs.grantStart(rules);
    // profile: erasure takes the person out of every audience (PROFILE#AUD, member items, counts).
    this.grantTableItems(profile, ['dynamodb:PutItem'], [keys.profile('*').pk]);
    this.grantTableItems(profile, ['dynamodb:DeleteItem', 'dynamodb:UpdateItem'], [`${AUDIENCE_PK_PREFIX}*`]);
    // insights (console): the debugger session marker and entries (DBG#…); the read and admin keys.
    this.grantTableItems(this.functions.insights, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'], [`${DEBUG_PK_PREFIX}*`]);
    this.grantTableItems(this.functions.insights, ['dynamodb:Query'], [`${STATS_PK_PREFIX}*`]);
    this.secrets.readKey.grantRead(this.functions.insights);
    this.secrets.adminKey.grantRead(this.functions.insights);
  }

  /** Item actions on the table, limited to partition keys matching `leadingKeys` (`*` wildcards). */
  private grantTableItems(fn: NodejsFunction, actions: string[], leadingKeys: string[]): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions,
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': leadingKeys } },
      }),
    );
  }

  private connectEventSources(config: ResolvedProps): void {
    this.functions.stitch.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: config.stitchBatchSize,
        maxBatchingWindow: STITCH_BATCHING_WINDOW,
        maxConcurrency: config.stitchMaxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    this.functions.evaluate.addEventSource(
      new DynamoEventSource(this.table, {
        startingPosition: lambda.StartingPosition.LATEST,
        batchSize: 100,
        bisectBatchOnError: true,
        retryAttempts: config.evaluateRetryAttempts,
        // Unset: no record is dropped for its age (-1); poison records go to the failure queue after the retries.
        maxRecordAge: config.evaluateMaxRecordAge,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.streamFailureQueue),
        // Only newly written timeline events and merge records (the outbox of `Profile Merged`):
        // profile, identity and rule writes are not evaluated.
        filters: [EVENT_SK_PREFIX, MERGE_SK_PREFIX].map((prefix) =>
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.isEqual('INSERT'),
            dynamodb: { Keys: { sk: { S: lambda.FilterRule.beginsWith(prefix) } } },
          }),
        ),
      }),
    );
  }

  private createApi(config: ResolvedProps): { api: apigwv2.HttpApi; stage: apigwv2.HttpStage } {
    const api = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: Names.uniqueResourceName(this, { separator: '-', maxLength: 120 }),
      description: 'Scherp collect, profile and admin API',
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: config.corsAllowedOrigins,
        // Every method a route uses (the admin APIs PUT, PATCH and DELETE), as the local server allows.
        allowMethods: CORS_ALLOW_METHODS.map((m) => apigwv2.CorsHttpMethod[m]),
        allowHeaders: [...CORS_ALLOW_HEADERS],
      },
    });
    // One integration per function; the routes come from the list the local server serves too.
    const integrations = new Map<ApiFunction, HttpLambdaIntegration>();
    const integrationFor = (fn: ApiFunction) => {
      let i = integrations.get(fn);
      if (!i) {
        const id = `${fn[0]!.toUpperCase()}${fn.slice(1)}Integration`;
        i = new HttpLambdaIntegration(id, this.functions[fn], { payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0 });
        integrations.set(fn, i);
      }
      return i;
    };
    const routes = API_ROUTES.flatMap((r) =>
      api.addRoutes({ path: r.path, methods: [apigwv2.HttpMethod[r.method]], integration: integrationFor(r.fn) }),
    );

    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: config.logRetention });
    const stage = api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: config.throttlingRateLimit, burstLimit: config.throttlingBurstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    throttleRoutes(
      stage,
      API_ROUTES,
      routes,
      { rateLimit: config.throttlingRateLimit, burstLimit: config.throttlingBurstLimit },
      { rateLimit: config.adminThrottlingRateLimit, burstLimit: config.adminThrottlingBurstLimit },
    );
    return { api, stage };
  }

  /** One rule on the bus so a deployer can watch actions arrive in CloudWatch Logs. */
  /**
   * The example log group keeps a month of every bus event: only its type and ids (fields every
   * bus event has), never the user id, email, data or explanation, so erasure leaves nothing there.
   */
  private createExampleRule(config: ResolvedProps): logs.LogGroup {
    const logGroup = new logs.LogGroup(this, 'ActionsLogs', { retention: config.logRetention });
    new events.Rule(this, 'ActionsToLogsRule', {
      eventBus: this.bus,
      description: `Copies every ${EVENT_SOURCE} action into a log group (example; add your own rules)`,
      eventPattern: { source: [EVENT_SOURCE] },
      targets: [new targets.CloudWatchLogGroup(logGroup, { installLatestAwsSdk: false, logEvent: ACTIONS_LOG_EVENT })],
    });
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
    };
    if (this.actionsLogGroup)
      outputs.ActionsLogGroupName = [this.actionsLogGroup.logGroupName, 'Log group receiving every action (example rule)'];
    for (const [id, [value, description]] of Object.entries(outputs))
      new CfnOutput(this, id, { value, description }).overrideLogicalId(`${prefix}${id}`);
  }

  /**
   * Justified acknowledgments of cdk-nag (AwsSolutions, Serverless) findings, each on the
   * narrowest construct and, for IAM5, the exact finding.
   */
  private acknowledgeNagFindings(): void {
    const { stitch, evaluate } = this.functions;
    const allFunctions = Object.values(this.functions);

    for (const route of this.httpApi.node.findAll().filter((c) => c instanceof apigwv2.HttpRoute)) {
      ack(
        route,
        'AwsSolutions-APIG4',
        'Authentication is done in the handlers: collect and context check the write key (HTTP Basic, Segment-compatible SDKs; context also in the body), profile checks the read key (the admin key for export and erasure), admin and rules check the admin key. API Gateway authorizers cannot verify these keys without a Lambda authorizer that would add latency and cost to every event.',
      );
    }

    for (const fn of allFunctions) {
      ack(
        fn,
        'AwsSolutions-L1',
        'Node.js 22 is pinned deliberately: the handlers and their bundle are built and tested for node22; moving to a newer runtime is a reviewed change.',
      );
      ack(
        fn,
        'Serverless-LambdaLatestVersion',
        'Node.js 22 is pinned deliberately: the handlers and their bundle are built and tested for node22; moving to a newer runtime is a reviewed change.',
      );
      ack(
        fn,
        'Serverless-LambdaTracing',
        'X-Ray is off to keep the per-event cost at zero; observability comes from Powertools structured logs and metrics.',
      );
      ack(
        fn,
        'Serverless-LambdaDLQ',
        fn === evaluate
          ? 'evaluate is invoked asynchronously only by the delayed-action schedules; its failed asynchronous invocations go to the delayed-actions queue through an on-failure destination (EventInvokeConfig), which supersedes a Lambda DLQ.'
          : 'Not invoked asynchronously: collect, profile, context, admin, rules and import are synchronous (API), stitch and fileImport are event-source mappings whose failures go to the dead-letter queue of their queue.',
      );
    }
    ack(
      stitch.node.findAll().find((c) => c instanceof lambda.CfnEventSourceMapping)!,
      'Serverless-LambdaEventSourceMappingDestination',
      "SQS event-source mappings do not support on-failure destinations; failed messages go to the ingest queue's dead-letter queue through its redrive policy.",
    );

    // (cdk-nag recognises the ingest DLQ as a DLQ for AwsSolutions-SQS3, not the stream one.)
    ack(
      this.streamFailureQueue,
      'AwsSolutions-SQS3',
      'This queue is the on-failure destination of the DynamoDB stream mapping, i.e. a dead-letter queue itself.',
    );
    ack(
      this.delayedActionsDeadLetterQueue,
      'AwsSolutions-SQS3',
      "This queue is the dead-letter queue of the delayed-action schedules and the on-failure destination of evaluate's asynchronous invocations.",
    );
    for (const q of [this.deadLetterQueue, this.streamFailureQueue, this.delayedActionsDeadLetterQueue]) {
      ack(q, 'Serverless-SQSRedrivePolicy', 'This queue is itself a dead-letter destination; it has nowhere further to redrive to.');
    }

    // cdk-nag names a resource by its template text, intrinsic functions as JSON.
    const resolved = Stack.of(this).resolve(this.scheduleGroup.scheduleGroupName) as { 'Fn::Join': [string, unknown[]] };
    const groupName = resolved['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join('');
    // A stack with an environment (the CLI sets CDK_DEFAULT_REGION) has its region and account in the ARN.
    const { region, account } = Stack.of(this);
    const arnEnv = `${Token.isUnresolved(region) ? '<AWS::Region>' : region}:${Token.isUnresolved(account) ? '<AWS::AccountId>' : account}`;
    ack(
      evaluate.role!.node.findChild('DefaultPolicy'),
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:${arnEnv}:schedule/${groupName}/*]`,
      'EventBridge Scheduler authorizes CreateSchedule on the schedule ARN, and the names of delayed actions are made at run time (one per action, from its dedupe id): schedules of the delayed-actions group only.',
    );

    for (const secret of Object.values(this.secrets)) {
      ack(
        secret,
        'AwsSolutions-SMG4',
        'Bootstrap API keys are distributed to SDKs and clients; automatic rotation would break them without coordination. Rotate by updating the secret value deliberately.',
      );
    }

    const exampleRule = this.node.tryFindChild('ActionsToLogsRule');
    if (exampleRule)
      ack(
        exampleRule,
        'Serverless-EventBusDLQ',
        'Example rule writing actions to a log group for visibility only; a lost log line is acceptable and not worth a queue.',
      );

    // Helpers CDK adds at stack level for the custom resources of this construct.
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

/** The GUID of the stack's id (`arn:…:stack/<name>/<guid>`): new for every creation of the stack. */
function stackGuid(scope: Construct): string {
  return Fn.select(2, Fn.split('/', Stack.of(scope).stackId));
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
      name === 'collect' || name === 'profile' || name === 'context' || name === 'admin' || name === 'rules' || name === 'import'
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
