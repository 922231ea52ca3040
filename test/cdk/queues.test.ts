import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { DEAD_LETTER_RETENTION, deadLetterQueue, queueWithDeadLetters, visibilityTimeoutFor } from '../../lib/queues';

function stack(): Stack {
  return new Stack(new App(), 'Queues');
}

const sslOnly = {
  PolicyDocument: {
    Statement: Match.arrayWith([
      Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]),
  },
};

describe('queueWithDeadLetters', () => {
  test('SSE and SSL-only on both, 14-day letters, redrive after maxReceiveCount, visibility 6x timeout + window', () => {
    const s = stack();
    const { queue, deadLetterQueue: dlq } = queueWithDeadLetters(s, 'WorkQueue', {
      consumerTimeout: Duration.seconds(30),
      batchingWindow: Duration.seconds(1),
      maxReceiveCount: 4,
    });
    const t = Template.fromStack(s);
    t.resourceCountIs('AWS::SQS::Queue', 2);
    t.resourcePropertiesCountIs('AWS::SQS::Queue', { SqsManagedSseEnabled: true }, 2);
    t.resourcePropertiesCountIs('AWS::SQS::QueuePolicy', sslOnly, 2);
    const dlqId = s.getLogicalId(dlq.node.defaultChild as never);
    expect(dlq.node.id).toBe('WorkDeadLetterQueue');
    t.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: DEAD_LETTER_RETENTION.toSeconds() });
    t.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 181,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 4 },
    });
    expect(queue.node.id).toBe('WorkQueue');
    // Without a name there is no redrive allow policy (the ARN is not known before the queue).
    t.resourcePropertiesCountIs('AWS::SQS::Queue', { RedriveAllowPolicy: Match.anyValue() }, 0);
  });

  test('a named queue: its DLQ accepts letters from it only, and the queue is nobody\u2019s DLQ', () => {
    const s = stack();
    queueWithDeadLetters(s, 'Queue', { consumerTimeout: Duration.seconds(10), maxReceiveCount: 5, queueName: 'ingest-abc' });
    const t = Template.fromStack(s);
    t.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'ingest-abc',
      VisibilityTimeout: 60,
      RedriveAllowPolicy: { redrivePermission: 'denyAll' },
    });
    t.hasResourceProperties('AWS::SQS::Queue', {
      RedriveAllowPolicy: {
        redrivePermission: 'byQueue',
        sourceQueueArns: [Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([':ingest-abc'])] })],
      },
    });
  });

  test.each([
    [{ maxReceiveCount: 0 }, /maxReceiveCount must be an integer from 1 to 1000 \(got 0\)/],
    [{ maxReceiveCount: 2.5 }, /maxReceiveCount/],
    [{ maxReceiveCount: 1001 }, /maxReceiveCount/],
    [{ consumerTimeout: Duration.hours(3) }, /over SQS's 12 hours/],
    [{ retentionPeriod: Duration.days(15) }, /retentionPeriod must be from 1 minute to 14 days/],
    [{ queueName: 'has spaces' }, /queueName "has spaces"/],
  ])('refuses %p', (override, message) => {
    expect(() =>
      queueWithDeadLetters(stack(), 'Queue', { consumerTimeout: Duration.seconds(10), maxReceiveCount: 3, ...override }),
    ).toThrow(message);
  });

  test('the visibility timeout follows the consumer', () => {
    expect(visibilityTimeoutFor(Duration.minutes(15)).toSeconds()).toBe(5400);
    expect(visibilityTimeoutFor(Duration.seconds(30), Duration.seconds(1)).toSeconds()).toBe(181);
  });
});

describe('deadLetterQueue', () => {
  test('SSE, SSL-only, 14 days, nothing may redrive into it', () => {
    const s = stack();
    deadLetterQueue(s, 'Failures', { receivesFrom: 'the on-failure destination of a stream mapping' });
    const t = Template.fromStack(s);
    t.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
      RedriveAllowPolicy: { redrivePermission: 'denyAll' },
    });
    t.resourcePropertiesCountIs('AWS::SQS::QueuePolicy', sslOnly, 1);
  });

  test('says what sends letters to it', () => {
    expect(() => deadLetterQueue(stack(), 'Failures', { receivesFrom: ' ' })).toThrow(/receivesFrom/);
  });
});
