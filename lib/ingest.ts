import type { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEBUG_PK_PREFIX, keys, REJECTED_PK_PREFIX, STATS_PK_PREFIX } from '../adapters/dynamo/keys';
import { ENV } from '../lambdas/shared/env';
import { bindQueue, bindSecret, bindSettings, bindTable } from './bind';
import { platformResourceName, stackGuid } from './naming';
import { queueWithDeadLetters } from './queues';
import { createScherpFunction, type FunctionSizing, type ScherpLogLevel } from './scherp-function';

/** Properties of {@link ScherpIngest}. */
export interface ScherpIngestProps {
  readonly table: dynamodb.ITableV2;
  readonly writeKey: secretsmanager.ISecret;
  readonly collectSizing: FunctionSizing;
  /** The consumer's timeout and batching window set the queue's visibility timeout. */
  readonly consumer: { readonly timeout: Duration; readonly batchingWindow: Duration };
  readonly maxReceiveCount: number;
  readonly limits: {
    readonly maxEventBytes: number;
    readonly maxRequestBytes: number;
    readonly maxBatchEvents: number;
    readonly rejectedRetentionDays: number;
    readonly sourceRateLimit: number;
    readonly sourceBurstLimit: number;
  };
  readonly logRetention: logs.RetentionDays;
  readonly logLevel: ScherpLogLevel;
}

/**
 * The ingest stage: `collect` (the Segment-compatible tracking API) and the queue it sends
 * accepted events to, with its dead-letter queue.
 */
export class ScherpIngest extends Construct {
  /** Ingest queue: `collect` sends accepted events, `stitch` consumes them. */
  public readonly queue: sqs.Queue;
  /** Where ingest messages land after `maxReceiveCount` failed receives. */
  public readonly deadLetterQueue: sqs.Queue;
  public readonly collect: NodejsFunction;

  constructor(scope: Construct, id: string, props: ScherpIngestProps) {
    super(scope, id);
    // The ingest queue gets a name known before it exists so the DLQ's redrive allow policy can
    // name it. The name ends with the stack's id, so a stack destroyed and deployed again within
    // SQS's 60 s of name reservation gets another name.
    ({ queue: this.queue, deadLetterQueue: this.deadLetterQueue } = queueWithDeadLetters(this, 'Queue', {
      queueName: `${platformResourceName(this, 36)}-${stackGuid(this)}`,
      consumerTimeout: props.consumer.timeout,
      batchingWindow: props.consumer.batchingWindow,
      maxReceiveCount: props.maxReceiveCount,
      deadLetterReason: 'This queue is itself a dead-letter destination; it has nowhere further to redrive to.',
    }));

    const collect = createScherpFunction(this, 'Collect', {
      name: 'collect',
      sizing: props.collectSizing,
      logRetention: props.logRetention,
      logLevel: props.logLevel,
      invocation: 'api',
    });
    // Write-key lookups and rejected events (only those items); collect also reads the debugger
    // session marker (cached) and, while one is open, keeps debug entries (DBG#…). One ADD per
    // request with rejected events to the hour's counters (the Overview). Nothing else.
    bindTable(
      collect,
      props.table,
      {
        actions: ['dynamodb:GetItem', 'dynamodb:BatchWriteItem'],
        leadingKeys: [keys.writeKey('*').pk, `${REJECTED_PK_PREFIX}*`, `${DEBUG_PK_PREFIX}*`],
      },
      { actions: ['dynamodb:UpdateItem'], leadingKeys: [`${STATS_PK_PREFIX}*`] },
    );
    bindQueue(collect, this.queue, { url: ENV.QUEUE_URL }, 'send');
    bindSecret(collect, ENV.WRITE_KEY_SECRET_ARN, props.writeKey);
    bindSettings(collect, {
      [ENV.MAX_EVENT_BYTES]: props.limits.maxEventBytes,
      [ENV.MAX_REQUEST_BYTES]: props.limits.maxRequestBytes,
      [ENV.MAX_BATCH_EVENTS]: props.limits.maxBatchEvents,
      [ENV.REJECTED_RETENTION_DAYS]: props.limits.rejectedRetentionDays,
      [ENV.SOURCE_RATE_LIMIT]: props.limits.sourceRateLimit,
      [ENV.SOURCE_BURST_LIMIT]: props.limits.sourceBurstLimit,
    });
    this.collect = collect;
  }
}
