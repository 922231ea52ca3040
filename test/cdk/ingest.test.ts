import type { Template } from 'aws-cdk-lib/assertions';
import { actionsOf, leadingKeysOf, functionProps, synthScherp, type Synthesized } from './synth';

let synth: Synthesized;
let template: Template;
beforeAll(() => {
  synth = synthScherp();
  template = synth.template;
});

describe('queues', () => {
  test('ingest queue: SSE, redrive to the DLQ after 5 receives, visibility >= 6x stitch timeout', () => {
    const platform = synth.stack.platform;
    const dlqId = synth.stack.getLogicalId(platform.deadLetterQueue.node.defaultChild as never);
    const queueId = synth.stack.getLogicalId(platform.queue.node.defaultChild as never);
    const queue = template.toJSON().Resources[queueId];
    expect(queue.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 },
      RedriveAllowPolicy: { redrivePermission: 'denyAll' },
    });
    const stitchTimeout = functionProps(synth, platform.functions.stitch).Timeout;
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * stitchTimeout);
  });

  test('DLQ: 14-day retention, only the ingest queue may redrive into it', () => {
    const platform = synth.stack.platform;
    const dlqId = synth.stack.getLogicalId(platform.deadLetterQueue.node.defaultChild as never);
    const queueName = template.toJSON().Resources[synth.stack.getLogicalId(platform.queue.node.defaultChild as never)].Properties.QueueName;
    const dlq = template.toJSON().Resources[dlqId].Properties;
    expect(dlq).toMatchObject({ MessageRetentionPeriod: 14 * 24 * 3600, SqsManagedSseEnabled: true });
    expect(dlq.RedriveAllowPolicy.redrivePermission).toBe('byQueue');
    // The name is built from the stack's id (a new one after destroy and deploy): the same parts.
    const nameParts = queueName['Fn::Join'][1];
    expect(JSON.stringify(nameParts)).toContain('AWS::StackId');
    for (const part of nameParts)
      expect(JSON.stringify(dlq.RedriveAllowPolicy.sourceQueueArns)).toContain(JSON.stringify(part).replace(/^"|"$/g, ''));
  });
});

describe('least privilege', () => {
  test('collect: key lookups, rejected events, debugger items and rejected counters only (leading keys), SendMessage, the write key; no PutEvents', () => {
    const { actions } = actionsOf(synth, synth.stack.platform.functions.collect);
    expect(actions).not.toContain('events:PutEvents');
    expect(actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
    ]);
    expect(leadingKeysOf(synth, synth.stack.platform.functions.collect)).toEqual([['WKEY#*', 'REJ#*', 'DBG#*'], ['STATS#*']]);
    expect(actions).toEqual(expect.arrayContaining(['sqs:SendMessage', 'secretsmanager:GetSecretValue']));
  });
});
