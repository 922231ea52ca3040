import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { keys, MEMBERS_INDEX, REJECTED_PK_PREFIX, SOURCES_PK } from '../adapters/dynamo/keys';
import { ENV } from '../lambdas/shared/env';
import { bindQueue, bindSecret, bindSettings, bindTable, type TableAccess } from './bind';
import { apiFunctionMaker, type FunctionSizing, type ScherpLogLevel } from './scherp-function';

/** Reading the sources (to find a named one): import and file import. */
export const SOURCES_READ: TableAccess = { actions: ['dynamodb:GetItem', 'dynamodb:Query'], leadingKeys: [SOURCES_PK] };

/** A queue `GET /v1/health` reports: its name there, the queue and/or its dead-letter queue. */
export interface HealthQueue {
  readonly name: string;
  readonly queue?: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
}

/** Properties of {@link ScherpAdmin}. */
export interface ScherpAdminProps {
  readonly table: dynamodb.ITableV2;
  readonly adminKey: secretsmanager.ISecret;
  /** The read key: the audience and job reads of `rules` take it too. */
  readonly readKey: secretsmanager.ISecret;
  /** The ingest queue and its dead-letter queue (`ScherpIngest`): imports enqueue, dead letters are redriven. */
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** The queues `GET /v1/health` reports the depth of (rules function, console Health page). */
  readonly healthQueues: readonly HealthQueue[];
  readonly sizing: {
    readonly admin: FunctionSizing;
    readonly rules: FunctionSizing;
    readonly import: FunctionSizing;
    readonly identity: FunctionSizing;
    /** A split's final settle pass waits for the stitch timeout. */
    readonly stitch: FunctionSizing;
  };
  readonly rejectedRetentionDays: number;
  /** Days an event stays in the timeline: `rules` refuses a history window longer than that. */
  readonly eventRetentionDays: number;
  /** `SCHERP_CONFIG`, when given. */
  readonly configEnvironment: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  readonly logLevel: ScherpLogLevel;
}

/**
 * The admin key's functions: `admin` (sources and their keys, rejected events, dead letters),
 * `rules` (rules and audiences, dry runs, backtests) and `import` (enrichment rows queued as
 * identify events) and `identity` (split, release, lifting a suppression).
 */
export class ScherpAdmin extends Construct {
  public readonly admin: NodejsFunction;
  public readonly rules: NodejsFunction;
  public readonly import: NodejsFunction;
  /** Identity admin: split, release, lifting a suppression (`lambdas/identity`, `app/split.ts`). */
  public readonly identity: NodejsFunction;

  constructor(scope: Construct, id: string, props: ScherpAdminProps) {
    super(scope, id);
    const { table, adminKey } = props;
    const make = apiFunctionMaker<'admin' | 'rules' | 'import' | 'identity'>(this, props);

    // import: the sources (to find the named one), enqueue rows as identify events, the admin key.
    this.import = make('import', 'Import', props.configEnvironment);
    bindTable(this.import, table, SOURCES_READ);
    bindQueue(this.import, props.queue, { url: ENV.QUEUE_URL }, 'send');
    bindSecret(this.import, ENV.ADMIN_KEY_SECRET_ARN, adminKey);

    // admin: sources, key listings and lookups (transactions of puts, updates and condition
    // checks), the rejected-event log; the admin key.
    this.admin = make('admin', 'Admin');
    bindTable(this.admin, table, {
      actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'],
      leadingKeys: [SOURCES_PK, keys.writeKey('*').pk, `${REJECTED_PK_PREFIX}*`],
    });
    bindSecret(this.admin, ENV.ADMIN_KEY_SECRET_ARN, adminKey);
    bindSettings(this.admin, { [ENV.REJECTED_RETENTION_DAYS]: props.rejectedRetentionDays });
    // Dead letters: peek, copy back and delete chosen letters, or move all of them with a
    // message-move task (which reads and deletes on the DLQ and sends to the ingest queue).
    bindQueue(this.admin, props.deadLetterQueue, { url: ENV.DEAD_LETTER_QUEUE_URL, arn: ENV.DEAD_LETTER_QUEUE_ARN }, [
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ChangeMessageVisibility',
      'sqs:StartMessageMoveTask',
      'sqs:ListMessageMoveTasks',
    ]);
    bindQueue(this.admin, props.queue, { url: ENV.QUEUE_URL, arn: ENV.QUEUE_ARN }, 'send');

    // rules (admin API): the rule items, profile and timeline reads for dry runs and backtests.
    this.rules = make('rules', 'RulesAdmin');
    bindTable(
      this.rules,
      table,
      {
        actions: [
          'dynamodb:GetItem',
          'dynamodb:BatchGetItem',
          'dynamodb:Query',
          'dynamodb:Scan',
          'dynamodb:PutItem',
          'dynamodb:DeleteItem',
        ],
      },
      // An audience's members (GET /v1/audiences/{id}/members) are listed from the `members` index.
      { actions: ['dynamodb:Query'], index: MEMBERS_INDEX },
    );
    bindSecret(this.rules, ENV.ADMIN_KEY_SECRET_ARN, adminKey);
    // A rule or audience whose history window is longer than the event retention is refused at PUT.
    bindSettings(this.rules, { [ENV.EVENT_RETENTION_DAYS]: props.eventRetentionDays });
    // The audience and job reads take the read key too.
    bindSecret(this.rules, ENV.READ_KEY_SECRET_ARN, props.readKey);
    // identity (split, release, lifting a suppression; `app/split.ts`): reads of a person's items,
    // conditional puts, updates and deletes (transactions, batch moves of events) on profile
    // partitions, identity items and suppression markers only, and the put of a split's final
    // settle pass into the due index (`DUE#<minute>`, run by the jobs worker's sweep once the
    // stitch timeout has passed); the admin key.
    this.identity = make('identity', 'Identity', props.configEnvironment);
    bindSettings(this.identity, { [ENV.STITCH_TIMEOUT_SECONDS]: props.sizing.stitch.timeout.toSeconds() });
    bindTable(this.identity, table, {
      actions: [
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:ConditionCheckItem',
      ],
      leadingKeys: [keys.profile('*').pk, keys.identity('*', '*').pk, keys.suppressed('*').pk],
    });
    bindTable(this.identity, table, { actions: ['dynamodb:PutItem'], leadingKeys: [keys.dueMinute('*')] });
    bindSecret(this.identity, ENV.ADMIN_KEY_SECRET_ARN, adminKey);

    // rules, GET /v1/health: the depth of each reported queue (GetQueueAttributes only; the
    // evaluation-failure markers are read with the Scan above), named in HEALTH_QUEUES.
    this.rules.addEnvironment(
      ENV.HEALTH_QUEUES,
      Stack.of(this).toJsonString(
        props.healthQueues.map((h) => ({ name: h.name, url: h.queue?.queueUrl, deadLetterUrl: h.deadLetterQueue.queueUrl })),
      ),
    );
    for (const h of props.healthQueues) for (const q of [h.queue, h.deadLetterQueue]) q?.grant(this.rules, 'sqs:GetQueueAttributes');
  }
}
