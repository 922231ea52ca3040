import { Match, type Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { synthScherp, type Synthesized } from './synth';

let synth: Synthesized;
let template: Template;
beforeAll(() => {
  synth = synthScherp();
  template = synth.template;
});

describe('least privilege', () => {
  function sendTargets(fn: IFunction): unknown[] {
    const role = fn.role as iam.Role;
    const roleId = synth.stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
    const statements = Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) } }),
    ).flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    return statements.filter((st) => [st.Action].flat().includes('sqs:SendMessage')).map((st) => st.Resource);
  }
  const queueArn = (q: sqs.Queue) => ({ 'Fn::GetAtt': [synth.stack.getLogicalId(q.node.defaultChild as sqs.CfnQueue), 'Arn'] });

  test('stitch sends only to the dead-letter queue (to dead-letter with a reason); evaluate only to its failure queues', () => {
    const { platform } = synth.stack;
    expect(sendTargets(platform.functions.stitch)).toEqual([queueArn(platform.deadLetterQueue)]);
    const evaluateTargets = sendTargets(platform.functions.evaluate);
    expect(evaluateTargets).toHaveLength(2);
    expect(evaluateTargets).toEqual(
      expect.arrayContaining([queueArn(platform.streamFailureQueue), queueArn(platform.delayedActionsDeadLetterQueue)]),
    );
  });
});

describe('event source mappings', () => {
  test('SQS: batch of 100, 1 s window, at most 20 concurrent stitch invocations, partial batch failures', () => {
    const p = synth.stack.platform;
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: synth.stack.getLogicalId(p.functions.stitch.node.defaultChild as never) },
      EventSourceArn: { 'Fn::GetAtt': [synth.stack.getLogicalId(p.queue.node.defaultChild as never), 'Arn'] },
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      ScalingConfig: { MaximumConcurrency: 20 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });
});
