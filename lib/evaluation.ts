import { type Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_SK_PREFIX, MERGE_SK_PREFIX } from '../adapters/dynamo/keys';
import { ENV } from '../lambdas/shared/env';
import { bindBus, bindTable } from './bind';
import { ack } from './nag';
import { platformResourceName, stackGuid } from './naming';
import { deadLetterQueue } from './queues';
import { createScherpFunction, type FunctionSizing, type ScherpLogLevel } from './scherp-function';

/** EventBridge `source` of every action Scherp emits. */
export const EVENT_SOURCE = 'scherp';

/** Properties of {@link ScherpEvaluation}. */
export interface ScherpEvaluationProps {
  /** The table; its stream (NEW_IMAGE) feeds `evaluate`. */
  readonly table: dynamodb.ITableV2;
  readonly sizing: FunctionSizing;
  /** Name of the bus. @default - derived from the platform's path, unique per stack */
  readonly eventBusName?: string;
  readonly archiveRetention: Duration;
  readonly retryAttempts: number;
  readonly maxRecordAge?: Duration;
  /** `SCHERP_CONFIG` (computed traits are applied by evaluate), when given. */
  readonly configEnvironment: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  readonly logLevel: ScherpLogLevel;
}

/**
 * The evaluation stage: the table's stream → `evaluate` (rules, audiences, computed traits) →
 * the EventBridge bus (with its archive), delayed actions as one-time EventBridge Scheduler
 * schedules that invoke `evaluate` again, and the queues their failures go to.
 */
export class ScherpEvaluation extends Construct {
  /** Custom bus `evaluate` (and `stitch`) put actions on. */
  public readonly bus: events.EventBus;
  /**
   * Where the stream mapping sends the batches `evaluate` gave up on: the shard and sequence
   * numbers, not the records; `scherp stream-failures` re-reads them (docs/reliability.md).
   */
  public readonly streamFailureQueue: sqs.Queue;
  /** Schedule group of delayed actions (one-time schedules that invoke `evaluate`). */
  public readonly scheduleGroup: scheduler.ScheduleGroup;
  /** Role EventBridge Scheduler assumes to invoke `evaluate` for delayed actions. */
  public readonly schedulerRole: iam.Role;
  /** Where delayed-action invocations go when they keep failing (scheduler delivery or the function). */
  public readonly delayedActionsDeadLetterQueue: sqs.Queue;
  public readonly evaluate: NodejsFunction;

  constructor(scope: Construct, id: string, props: ScherpEvaluationProps) {
    super(scope, id);
    this.streamFailureQueue = deadLetterQueue(this, 'StreamFailureQueue', {
      receivesFrom: 'This queue is the on-failure destination of the DynamoDB stream mapping, i.e. a dead-letter queue itself.',
    });
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: props.eventBusName ?? platformResourceName(this, 200) });
    this.bus.archive('Archive', {
      description: `Every ${EVENT_SOURCE} event`,
      eventPattern: { source: [EVENT_SOURCE] },
      retention: props.archiveRetention,
    });

    // Not retained, and named after the stack's id: a stack destroyed and deployed again gets a
    // new group, even while the old one is still being deleted (a group only holds the pending
    // one-time schedules, which die with the stack's function).
    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'DelayedActions', {
      scheduleGroupName: `${platformResourceName(this, 27)}-${stackGuid(this)}`,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'EventBridge Scheduler invoking Scherp evaluate for delayed actions',
    });
    this.delayedActionsDeadLetterQueue = deadLetterQueue(this, 'DelayedActionsDeadLetterQueue', {
      receivesFrom:
        "This queue is the dead-letter queue of the delayed-action schedules and the on-failure destination of evaluate's asynchronous invocations.",
    });

    const evaluate = createScherpFunction(this, 'Evaluate', {
      name: 'evaluate',
      sizing: props.sizing,
      logRetention: props.logRetention,
      logLevel: props.logLevel,
      environment: {
        [ENV.SCHEDULER_ROLE_ARN]: this.schedulerRole.roleArn,
        [ENV.SCHEDULER_GROUP_NAME]: this.scheduleGroup.scheduleGroupName,
        [ENV.SCHEDULER_DLQ_ARN]: this.delayedActionsDeadLetterQueue.queueArn,
        ...props.configEnvironment,
      },
      invocation: {
        asyncFailures:
          'evaluate is invoked asynchronously only by the delayed-action schedules; its failed asynchronous invocations go to the delayed-actions queue through an on-failure destination (EventInvokeConfig), which supersedes a Lambda DLQ.',
      },
    });
    this.evaluate = evaluate;
    // Item reads and writes (no table administration), put actions.
    bindTable(evaluate, props.table, 'readWrite');
    bindBus(evaluate, this.bus);
    // One-time schedules for delayed actions, run by the scheduler role, which may invoke
    // evaluate and dead-letter into the delayed-actions queue; nothing else. Scheduler
    // authorizes CreateSchedule on the schedule (`schedule/<group>/<name>`), not the group.
    this.scheduleGroup.grantWriteSchedules(evaluate);
    this.schedulerRole.grantPassRole(evaluate.grantPrincipal);
    this.schedulerRole.addToPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [evaluate.functionArn] }));
    this.delayedActionsDeadLetterQueue.grantSendMessages(this.schedulerRole);
    // A delayed check that fails in the function itself (async invoke) also lands in that queue.
    evaluate.configureAsyncInvoke({ retryAttempts: 2, onFailure: new SqsDestination(this.delayedActionsDeadLetterQueue) });
    // The stream read is granted by the event source.
    evaluate.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: lambda.StartingPosition.LATEST,
        batchSize: 100,
        bisectBatchOnError: true,
        retryAttempts: props.retryAttempts,
        // Unset: no record is dropped for its age (-1); poison records go to the failure queue after the retries.
        maxRecordAge: props.maxRecordAge,
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
    this.acknowledgeSchedules();
  }

  /** The one wildcard evaluate needs: the schedules of its group, whose names are made at run time. */
  private acknowledgeSchedules(): void {
    // cdk-nag names a resource by its template text, intrinsic functions as JSON.
    const resolved = Stack.of(this).resolve(this.scheduleGroup.scheduleGroupName) as { 'Fn::Join': [string, unknown[]] };
    const groupName = resolved['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join('');
    // A stack with an environment (the CLI sets CDK_DEFAULT_REGION) has its region and account in the ARN.
    const { region, account } = Stack.of(this);
    const arnEnv = `${Token.isUnresolved(region) ? '<AWS::Region>' : region}:${Token.isUnresolved(account) ? '<AWS::AccountId>' : account}`;
    ack(
      this.evaluate.role!.node.findChild('DefaultPolicy'),
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:${arnEnv}:schedule/${groupName}/*]`,
      'EventBridge Scheduler authorizes CreateSchedule on the schedule ARN, and the names of delayed actions are made at run time (one per action, from its dedupe id): schedules of the delayed-actions group only.',
    );
  }
}
