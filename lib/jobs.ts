import { type CfnElement, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { JOB_EVENT_SOURCE, JOB_STARTED } from '../core/jobs';
import { ENV } from '../lambdas/shared/env';
import { ack } from './nag';
import { deadLetterQueue } from './queues';
import { createScherpFunction, type FunctionSizing, type ScherpLogLevel } from './scherp-function';

/** Properties of {@link ScherpJobs}. */
export interface ScherpJobsProps {
  /** The table the workers scan and write (profiles, membership, job items). */
  readonly table: dynamodb.ITable;
  /** Scherp's bus: backfill changes go on it as `Audience Entered` / `Exited` with `backfill: true`. */
  readonly bus: events.IEventBus;
  readonly sizing: FunctionSizing;
  readonly logRetention: logs.RetentionDays;
  readonly logLevel: ScherpLogLevel;
  /** Further environment of the worker (table name, configuration). */
  readonly environment: Record<string, string>;
  /** Segments worked on at once (the Map state's concurrency). @default 8 */
  readonly maxConcurrency?: number;
}

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
    // Item reads and writes (scan, queries, transactional membership writes); no table administration.
    props.table.grantReadWriteData(this.worker);
    props.bus.grantPutEventsTo(this.worker);

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

  /** Lets a function start jobs: PutEvents on the jobs bus, and its name in `JOBS_BUS_NAME`. */
  grantStart(fn: NodejsFunction): void {
    this.jobsBus.grantPutEventsTo(fn as iam.IGrantable);
    fn.addEnvironment(ENV.JOBS_BUS_NAME, this.jobsBus.eventBusName);
  }

  private acknowledgeNagFindings(): void {
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
