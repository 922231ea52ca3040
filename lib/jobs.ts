import { type CfnElement, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { JOB_EVENT_SOURCE, JOB_STARTED } from '../core/jobs';
import { ENV } from '../lambdas/shared/env';
import {
  AUDIENCE_PK_PREFIX,
  DUE_PK_PREFIX,
  JOB_LOCK_PK_PREFIX,
  JOB_PK_PREFIX,
  JOBS_PK,
  keys,
  MEMBERS_INDEX,
} from '../adapters/dynamo/keys';
import { RECOMPUTE_SUBJECT } from '../core/computed-recompute';
import { grantTable } from './bind';
import { ack } from './nag';
import { deadLetterQueue } from './queues';
import { createScherpFunction, type FunctionSizing, type ScherpLogLevel } from './scherp-function';

/** Properties of {@link ScherpJobs}. */
export interface ScherpJobsProps {
  /** The table the workers scan and write (profiles, membership, job items). */
  readonly table: dynamodb.ITableV2;
  /** Scherp's bus: backfill changes go on it as `Audience Entered` / `Exited` with `backfill: true`. */
  readonly bus: events.IEventBus;
  readonly sizing: FunctionSizing;
  readonly logRetention: logs.RetentionDays;
  readonly logLevel: ScherpLogLevel;
  /** Further environment of the worker (table name, configuration). */
  readonly environment: Record<string, string>;
  /** Segments worked on at once (the Map state's concurrency). @default 8 */
  readonly maxConcurrency?: number;
  /** Days an export job's files stay in the jobs bucket. @default 7 */
  readonly fileRetentionDays?: number;
}

/** Where export jobs write their files in the jobs bucket (`app/job-export.ts`). */
export const EXPORTS_PREFIX = 'exports/';

/** The lock of the computed-trait recompute, the one job the worker creates itself (at deploy, `lib/computed-recompute.ts`). */
const RECOMPUTE_LOCK = keys.jobLock(RECOMPUTE_SUBJECT).pk;

/**
 * What the worker may do on the table, by partition (`dynamodb:LeadingKeys`): profiles (`P#`,
 * read, and membership items put in the membership transaction), audience counters (`AUD#`),
 * jobs and their segments (`JOB#`), the job locks it frees (`JOBLOCK#`), the rules it
 * reads (`RULES`) and the due memberships it sweeps (`DUE#`); for the computed-trait recompute it
 * starts at deploy, that job's lock (`JOBLOCK#computed`) and listing (`JOBS`), and the digests item
 * (`COMPUTED#DEFS`). Scan (the parallel scan of the
 * segments) has no partition key to condition on: its own statement, Scan only.
 */
export const WORKER_TABLE_ACCESS: readonly { readonly actions: readonly string[]; readonly leadingKeys: readonly string[] }[] = [
  {
    actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
    leadingKeys: [
      keys.profile('*').pk,
      keys.rule('*').pk,
      `${AUDIENCE_PK_PREFIX}*`,
      `${JOB_PK_PREFIX}*`,
      `${DUE_PK_PREFIX}*`,
      RECOMPUTE_LOCK,
      keys.computedDigests().pk,
    ],
  },
  {
    actions: ['dynamodb:PutItem'],
    leadingKeys: [keys.profile('*').pk, `${JOB_PK_PREFIX}*`, `${DUE_PK_PREFIX}*`, RECOMPUTE_LOCK, JOBS_PK, keys.computedDigests().pk],
  },
  // The recompute's write of a profile's computed traits is conditional on its root (`ver`, not merged).
  { actions: ['dynamodb:ConditionCheckItem'], leadingKeys: [keys.profile('*').pk] },
  { actions: ['dynamodb:UpdateItem'], leadingKeys: [`${AUDIENCE_PK_PREFIX}*`] },
  // A split's final settle pass (run by the minute sweep) moves events between profile partitions.
  { actions: ['dynamodb:BatchWriteItem'], leadingKeys: [keys.profile('*').pk] },
  { actions: ['dynamodb:DeleteItem'], leadingKeys: [`${JOB_LOCK_PK_PREFIX}*`, `${DUE_PK_PREFIX}*`] },
];

/**
 * Jobs over the whole table (audience backfills) on Step Functions: a `Job Started` event on an
 * internal bus starts the state machine with `{ jobId, segments }`; a Map state runs the worker
 * Lambda once per DynamoDB parallel-scan segment (again while it answers `done: false`, each
 * invocation resuming from the segment's checkpoint, retried with backoff on errors), then marks
 * the job succeeded; a failure past the retries marks it failed. The same worker sweeps the
 * memberships due for a re-check every minute (an EventBridge schedule): time-based exits.
 */
export class ScherpJobs extends Construct {
  /** The segment worker. */
  public readonly worker: NodejsFunction;
  public readonly stateMachine: sfn.StateMachine;
  /** The internal bus whose `Job Started` events start jobs (not Scherp's bus). */
  public readonly jobsBus: events.EventBus;
  /** The every-minute sweep of due memberships (time-based exits, `app/expiry.ts`). */
  public readonly sweepRule: events.Rule;
  /** `Job Started` events EventBridge could not deliver to the state machine (and sweeps it could not invoke). */
  public readonly startFailures: sqs.Queue;
  /** Files jobs write (export parts under `exports/`), expired after `fileRetentionDays`. */
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ScherpJobsProps) {
    super(scope, id);
    this.worker = createScherpFunction(this, 'Worker', {
      name: 'jobs',
      sizing: props.sizing,
      logRetention: props.logRetention,
      logLevel: props.logLevel,
      environment: { ...props.environment, [ENV.EVENT_BUS_NAME]: props.bus.eventBusName },
      invocation: {
        asyncFailures:
          'Step Functions invokes it synchronously (retries, then the job is marked failed); the every-minute sweep comes from an EventBridge rule whose target has retries and a dead-letter queue (StartFailures).',
      },
    });
    // Least privilege on the table: per partition prefix, the segments' Scan apart, and exports'
    // Query of an audience's members on the `members` index only.
    grantTable(
      this.worker,
      props.table,
      ...WORKER_TABLE_ACCESS,
      { actions: ['dynamodb:Scan'] },
      { actions: ['dynamodb:Query'], index: MEMBERS_INDEX },
    );
    props.bus.grantPutEventsTo(this.worker);

    // Export files: private, encrypted, SSL only, gone after a few days.
    const retentionDays = props.fileRetentionDays ?? 7;
    this.bucket = new s3.Bucket(this, 'Files', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { prefix: EXPORTS_PREFIX, expiration: Duration.days(retentionDays), abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
    this.worker.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects(`${EXPORTS_PREFIX}*`)] }),
    );
    this.worker.addEnvironment(ENV.JOBS_BUCKET, this.bucket.bucketName);

    const invoke = (name: string, payload: Record<string, string>) =>
      new tasks.LambdaInvoke(this, name, {
        lambdaFunction: this.worker,
        payload: sfn.TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        retryOnServiceExceptions: true,
      });
    const work = invoke('WorkSegment', { 'jobId.$': '$.jobId', 'segment.$': '$.segment' });
    // A segment's errors are retried from its checkpoint (idempotent), with backoff.
    work.addRetry({ errors: ['States.ALL'], maxAttempts: 4, interval: Duration.seconds(5), backoffRate: 2 });
    const segment = work.next(
      new sfn.Choice(this, 'SegmentDone')
        .when(sfn.Condition.booleanEquals('$.done', true), new sfn.Succeed(this, 'SegmentFinished'))
        .otherwise(work),
    );
    const map = new sfn.Map(this, 'Segments', {
      itemsPath: '$.segments',
      maxConcurrency: props.maxConcurrency ?? 8,
      itemSelector: { 'jobId.$': '$.jobId', 'segment.$': '$$.Map.Item.Value' },
      resultPath: sfn.JsonPath.DISCARD,
    });
    map.itemProcessor(segment);
    const failed = invoke('MarkFailed', { 'jobId.$': '$.jobId', failed: 'true' }).next(new sfn.Fail(this, 'JobFailed'));
    map.addCatch(failed, { resultPath: '$.error' });
    const definition = map.next(invoke('Complete', { 'jobId.$': '$.jobId', complete: 'true' }));

    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      timeout: Duration.days(7),
    });

    this.jobsBus = new events.EventBus(this, 'Bus');
    // A job whose execution could not be started stays `running` with no progress: its start
    // event lands here (and `scherp jobs cancel` frees the audience).
    this.startFailures = deadLetterQueue(this, 'StartFailures', {
      receivesFrom: 'This queue is itself the dead-letter queue of the Job Started and sweep rule targets.',
    });
    new events.Rule(this, 'JobStarted', {
      eventBus: this.jobsBus,
      eventPattern: { source: [JOB_EVENT_SOURCE], detailType: [JOB_STARTED] },
      targets: [
        new targets.SfnStateMachine(this.stateMachine, {
          input: events.RuleTargetInput.fromEventPath('$.detail'),
          deadLetterQueue: this.startFailures,
          retryAttempts: 10,
        }),
      ],
    });
    // Time-based exits: every minute the worker sweeps the memberships due for a re-check.
    this.sweepRule = new events.Rule(this, 'SweepDue', {
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [
        new targets.LambdaFunction(this.worker, {
          event: events.RuleTargetInput.fromObject({ sweep: true }),
          deadLetterQueue: this.startFailures,
          retryAttempts: 2,
          maxEventAge: Duration.minutes(5),
        }),
      ],
    });
    this.acknowledgeNagFindings();
  }

  /** Lets a function launch jobs, nothing more: PutEvents on the jobs bus (its name in `JOBS_BUS_NAME`). */
  grantLaunch(fn: NodejsFunction): void {
    this.jobsBus.grantPutEventsTo(fn as iam.IGrantable);
    fn.addEnvironment(ENV.JOBS_BUS_NAME, this.jobsBus.eventBusName);
  }

  /**
   * Lets a function start jobs and serve their files: PutEvents on the jobs bus (its name in
   * `JOBS_BUS_NAME`), GetObject under `exports/` of the jobs bucket (`JOBS_BUCKET`; ListBucket
   * on that prefix, so a file gone is a 404, not a 403).
   */
  grantStart(fn: NodejsFunction): void {
    this.grantLaunch(fn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects(`${EXPORTS_PREFIX}*`)] }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${EXPORTS_PREFIX}*`] } },
      }),
    );
    fn.addEnvironment(ENV.JOBS_BUCKET, this.bucket.bucketName);
    const policy = fn.role?.node.tryFindChild('DefaultPolicy');
    if (policy)
      ack(
        policy,
        `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket)}.Arn>/${EXPORTS_PREFIX}*]`,
        'GetObject on the export files of the jobs bucket only (exports/*): the files of GET /v1/jobs/{id}/files/{n}.',
      );
  }

  private acknowledgeNagFindings(): void {
    const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    const workerPolicy = this.worker.role?.node.tryFindChild('DefaultPolicy');
    if (workerPolicy)
      ack(
        workerPolicy,
        `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${EXPORTS_PREFIX}*]`,
        'PutObject on the export files of the jobs bucket only (exports/<jobId>/…, one file per page of an export job).',
      );
    ack(
      this.bucket,
      'AwsSolutions-S1',
      'Export files stay a few days (lifecycle expiry), written by the jobs worker and read by the rules function alone; object access can be audited with CloudTrail data events.',
    );
    const smPolicy = this.stateMachine.role.node.tryFindChild('DefaultPolicy');
    const workerId = Stack.of(this).getLogicalId(this.worker.node.defaultChild as CfnElement);
    if (smPolicy) {
      ack(
        smPolicy,
        `AwsSolutions-IAM5[Resource::<${workerId}.Arn>:*]`,
        'CDK grants the state machine lambda:InvokeFunction on the worker and its versions (`<arn>:*`): the worker only.',
      );
      ack(
        smPolicy,
        'AwsSolutions-IAM5[Resource::*]',
        'X-Ray tracing and log delivery actions (xray:PutTraceSegments, logs:CreateLogDelivery, …) have no resource-level permissions.',
      );
    }
  }
}
