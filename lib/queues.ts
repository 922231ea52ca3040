/**
 * The one way Scherp builds an SQS queue: a work queue with its dead-letter queue
 * ({@link queueWithDeadLetters}) or a queue that is itself a dead-letter destination
 * ({@link deadLetterQueue}: the stream-failure, delayed-actions and destinations queues).
 *
 * Secure defaults, always: SQS-managed server-side encryption, an SSL-only queue policy,
 * 14 days of retention for letters (SQS's maximum, so a letter outlives the message it was),
 * the visibility timeout AWS recommends for a Lambda consumer, and the cdk-nag acknowledgments
 * every dead-letter queue needs, said once here.
 */
import { ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ack } from './nag';

/** Retention of every dead-letter queue: SQS's maximum. */
export const DEAD_LETTER_RETENTION = Duration.days(14);
/** SQS's longest visibility timeout. */
const MAX_VISIBILITY = Duration.hours(12);

/** Properties of {@link queueWithDeadLetters}. */
export interface QueueWithDeadLettersProps {
  /**
   * Timeout of the Lambda function consuming the queue: the visibility timeout is six times it
   * plus the batching window (AWS guidance for Lambda event sources), so a message is not
   * received twice while a batch is still being worked on.
   */
  readonly consumerTimeout: Duration;
  /** The consumer's `maxBatchingWindow`, added to the visibility timeout. @default Duration.seconds(0) */
  readonly batchingWindow?: Duration;
  /** Receives of a message before SQS moves it to the dead-letter queue (1 to 1000). */
  readonly maxReceiveCount: number;
  /**
   * A fixed name for the queue. With a name the dead-letter queue's redrive allow policy can
   * name its one source (the ARN is known before the queue exists; a reference in both
   * directions would be circular), and the queue itself refuses to be anyone's dead-letter queue.
   * @default - a name CloudFormation generates, and no redrive allow policies
   */
  readonly queueName?: string;
  /** Retention of the queue's messages (1 minute to 14 days). @default - SQS's default, 4 days */
  readonly retentionPeriod?: Duration;
  /** Why the dead-letter queue has no queue behind it (cdk-nag Serverless-SQSRedrivePolicy). @default - a generic reason */
  readonly deadLetterReason?: string;
}

/** A work queue and the dead-letter queue its redrive policy moves failing messages to. */
export interface QueueWithDeadLetters {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
}

/**
 * A work queue `id` and its dead-letter queue (`<id without "Queue">DeadLetterQueue`, so
 * `Queue` gets `DeadLetterQueue` and `ImportQueue` gets `ImportDeadLetterQueue`), both in `scope`.
 * Throws on settings SQS would refuse at deploy time.
 */
export function queueWithDeadLetters(scope: Construct, id: string, props: QueueWithDeadLettersProps): QueueWithDeadLetters {
  const visibility = visibilityTimeoutFor(props.consumerTimeout, props.batchingWindow);
  const errors: string[] = [];
  const { maxReceiveCount, retentionPeriod } = props;
  if (!Token.isUnresolved(maxReceiveCount) && (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000))
    errors.push(`maxReceiveCount must be an integer from 1 to 1000 (got ${maxReceiveCount})`);
  if (visibility.toSeconds() > MAX_VISIBILITY.toSeconds())
    errors.push(`the visibility timeout (6 x the consumer timeout + batching window, ${visibility.toSeconds()} s) is over SQS's 12 hours`);
  if (
    retentionPeriod !== undefined &&
    (retentionPeriod.toSeconds() < 60 || retentionPeriod.toSeconds() > DEAD_LETTER_RETENTION.toSeconds())
  )
    errors.push('retentionPeriod must be from 1 minute to 14 days');
  if (props.queueName !== undefined && !Token.isUnresolved(props.queueName) && !/^[A-Za-z0-9_-]{1,80}$/.test(props.queueName))
    errors.push(`queueName "${props.queueName}" must be 1-80 characters of A-Z a-z 0-9 - _`);
  if (errors.length > 0) throw new Error(`Invalid queue ${scope.node.path}/${id}:\n- ${errors.join('\n- ')}`);

  const named = props.queueName !== undefined;
  const deadLetterQueue = new sqs.Queue(scope, `${id.replace(/Queue$/, '')}DeadLetterQueue`, {
    ...SECURE_DEFAULTS,
    retentionPeriod: DEAD_LETTER_RETENTION,
    ...(named
      ? {
          redriveAllowPolicy: {
            sourceQueues: [
              sqs.Queue.fromQueueArn(
                scope,
                `${id}Ref`,
                Stack.of(scope).formatArn({ service: 'sqs', resource: props.queueName!, arnFormat: ArnFormat.NO_RESOURCE_NAME }),
              ),
            ],
          },
        }
      : {}),
  });
  ack(
    deadLetterQueue,
    'Serverless-SQSRedrivePolicy',
    props.deadLetterReason ?? 'This queue is itself a dead-letter queue; it has nowhere further to redrive to.',
  );
  const queue = new sqs.Queue(scope, id, {
    ...SECURE_DEFAULTS,
    ...(named ? { queueName: props.queueName, redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.DENY_ALL } } : {}),
    ...(retentionPeriod !== undefined ? { retentionPeriod } : {}),
    visibilityTimeout: visibility,
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount },
  });
  return { queue, deadLetterQueue };
}

/** Properties of {@link deadLetterQueue}. */
export interface DeadLetterQueueProps {
  /**
   * What sends letters here (not a queue's redrive policy, so cdk-nag's AwsSolutions-SQS3 does
   * not see that this is a dead-letter queue): the reason of that acknowledgment.
   */
  readonly receivesFrom: string;
}

/**
 * A queue that is itself a dead-letter destination of something other than a queue (a stream
 * mapping's or an EventBridge target's on-failure destination): secure defaults, 14 days of
 * retention, and no queue may redrive into it.
 */
export function deadLetterQueue(scope: Construct, id: string, props: DeadLetterQueueProps): sqs.Queue {
  if (!props.receivesFrom.trim()) throw new Error(`deadLetterQueue ${id}: receivesFrom must say what sends letters to it`);
  const queue = new sqs.Queue(scope, id, {
    ...SECURE_DEFAULTS,
    retentionPeriod: DEAD_LETTER_RETENTION,
    redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.DENY_ALL },
  });
  ack(queue, 'AwsSolutions-SQS3', props.receivesFrom);
  ack(queue, 'Serverless-SQSRedrivePolicy', 'This queue is itself a dead-letter destination; it has nowhere further to redrive to.');
  return queue;
}

/** Six times the consumer's timeout plus its batching window (AWS guidance for Lambda consumers). */
export function visibilityTimeoutFor(consumerTimeout: Duration, batchingWindow: Duration = Duration.seconds(0)): Duration {
  return Duration.seconds(consumerTimeout.toSeconds() * 6 + batchingWindow.toSeconds());
}

const SECURE_DEFAULTS = { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true } as const;
