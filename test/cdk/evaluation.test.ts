import { Match, type Template } from 'aws-cdk-lib/assertions';
import { actionsOf, synthScherp, type Synthesized } from './synth';

let synth: Synthesized;
let template: Template;
beforeAll(() => {
  synth = synthScherp();
  template = synth.template;
});

describe('least privilege', () => {
  test('delayed actions: evaluate creates schedules in its group and passes only the scheduler role', () => {
    const p = synth.stack.platform;
    const { actions, resources } = actionsOf(synth, p.functions.evaluate);
    // Scheduler authorizes CreateSchedule on the schedule's ARN (schedule/<group>/<name>), not the group's.
    const schedules = resources.filter((r) => JSON.stringify(r).includes(':scheduler:'));
    expect(schedules).toHaveLength(1);
    const parts = (schedules[0] as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    expect(parts.find((x) => typeof x === 'string' && x.includes(':schedule/'))).toMatch(/^:schedule\//);
    expect(parts[parts.length - 1]).toBe('/*');
    expect(JSON.stringify(resources)).not.toContain(':schedule-group/');
    expect(actions).toEqual(expect.arrayContaining(['scheduler:CreateSchedule', 'iam:PassRole']));
    expect(actions).not.toContain('scheduler:DeleteSchedule');
    const roleId = synth.stack.getLogicalId(p.schedulerRole.node.defaultChild as never);
    expect(resources).toContainEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    const role = template.toJSON().Resources[roleId].Properties;
    expect(role.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'scheduler.amazonaws.com' });
    const schedulerActions = actionsOf(synth, { role: p.schedulerRole } as never).actions;
    expect(schedulerActions.sort()).toEqual(
      ['lambda:InvokeFunction', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'].sort(),
    );
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    // Not retained, named after the stack's id: destroy and deploy again does not collide.
    const [group] = Object.values(template.findResources('AWS::Scheduler::ScheduleGroup'));
    expect(group!.DeletionPolicy).toBe('Delete');
    expect(JSON.stringify(group!.Properties.Name)).toContain('AWS::StackId');
  });

  test('evaluate: failed asynchronous (delayed) invocations go to the delayed-actions DLQ', () => {
    const p = synth.stack.platform;
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: synth.stack.getLogicalId(p.functions.evaluate.node.defaultChild as never) },
      MaximumRetryAttempts: 2,
      DestinationConfig: {
        OnFailure: {
          Destination: { 'Fn::GetAtt': [synth.stack.getLogicalId(p.delayedActionsDeadLetterQueue.node.defaultChild as never), 'Arn'] },
        },
      },
    });
  });

  test('evaluate reads the stream', () => {
    expect(actionsOf(synth, synth.stack.platform.functions.evaluate).actions).toEqual(
      expect.arrayContaining(['dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:DescribeStream']),
    );
  });
});

describe('event source mappings', () => {
  test('DynamoDB stream: new EV# and MERGE# items only, bisect, retries, on-failure queue', () => {
    const p = synth.stack.platform;
    const failureQueueId = synth.stack.getLogicalId(p.streamFailureQueue.node.defaultChild as never);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: synth.stack.getLogicalId(p.functions.evaluate.node.defaultChild as never) },
      EventSourceArn: { 'Fn::GetAtt': [synth.stack.getLogicalId(p.table.node.defaultChild as never), 'StreamArn'] },
      StartingPosition: 'LATEST',
      BatchSize: 100,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      // No age limit (-1, the default): a backlog is evaluated, not dropped.
      MaximumRecordAgeInSeconds: Match.absent(),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [failureQueueId, 'Arn'] } } },
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: { Keys: { sk: { S: [{ prefix: 'EV#' }] } } } }),
          },
          {
            Pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: { Keys: { sk: { S: [{ prefix: 'MERGE#' }] } } } }),
          },
        ],
      },
    });
  });
});

describe('EventBridge', () => {
  test('the example log-group rule (a CloudWatch Logs resource policy, 10 per account and region) is opt-in', () => {
    template.resourceCountIs('Custom::CloudwatchLogResourcePolicy', 0);
    // No rule on Scherp's bus (the jobs construct's rules are on its own bus and the schedule).
    const busRef = { Ref: synth.stack.getLogicalId(synth.stack.platform.bus.node.defaultChild as never) };
    expect(
      Object.values(template.findResources('AWS::Events::Rule')).filter(
        (r) => JSON.stringify(r.Properties.EventBusName) === JSON.stringify(busRef),
      ),
    ).toEqual([]);
    expect(synth.stack.platform.actionsLogGroup).toBeUndefined();
  });

  test('custom bus, archive of scherp events for 30 days, example rule to a log group', () => {
    const synth = synthScherp({ exampleLogTarget: true });
    const template = synth.template;
    // Scherp's bus, and the jobs construct's internal one (Job Started events only).
    template.resourceCountIs('AWS::Events::EventBus', 2);
    const busId = synth.stack.getLogicalId(synth.stack.platform.bus.node.defaultChild as never);
    template.hasResourceProperties('AWS::Events::Archive', {
      SourceArn: { 'Fn::GetAtt': [busId, 'Arn'] },
      EventPattern: { source: ['scherp'] },
      RetentionDays: 30,
    });
    const logGroupId = synth.stack.getLogicalId(synth.stack.platform.actionsLogGroup!.node.defaultChild as never);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: busId },
      EventPattern: { source: ['scherp'] },
      Targets: [Match.objectLike({ Arn: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([{ Ref: logGroupId }])] }) })],
    });
    template.resourceCountIs('Custom::CloudwatchLogResourcePolicy', 1);
  });
});
