import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { bindBus, bindQueue, bindSecret, bindSettings, bindTable } from '../../lib/bind';

function setup() {
  const stack = new Stack(new App(), 'Bind');
  const table = new dynamodb.TableV2(stack, 'Table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {}'),
  });
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
  return { stack, table, fn, id };
}

/** Every statement of the function's default policy. */
function statements(t: Template): any[] {
  return Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('bindTable', () => {
  test('sets TABLE_NAME and grants item actions limited to partition-key prefixes', () => {
    const { stack, table, fn, id } = setup();
    bindTable(fn, table, { actions: ['dynamodb:GetItem'], leadingKeys: ['SOURCES'] }, { actions: ['dynamodb:Query'] });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { TABLE_NAME: { Ref: id(table) } } } });
    expect(statements(t)).toEqual([
      {
        Action: 'dynamodb:GetItem',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [id(table), 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['SOURCES'] } },
      },
      expect.objectContaining({ Action: 'dynamodb:Query', Effect: 'Allow' }),
    ]);
  });

  test("'read' and 'readWrite' are the table's item grants, no table administration", () => {
    const { stack, table, fn } = setup();
    bindTable(fn, table, 'readWrite');
    const actions = statements(Template.fromStack(stack)).flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']));
    expect(actions.filter((a: string) => /Table$|^dynamodb:\*$/.test(a))).toEqual(['dynamodb:DescribeTable']);
  });
});

describe('bindQueue, bindSecret, bindBus, bindSettings', () => {
  test('each sets its variables and its grant', () => {
    const { stack, fn, id } = setup();
    const queue = new sqs.Queue(stack, 'Queue');
    const secret = new secretsmanager.Secret(stack, 'Secret');
    const bus = new events.EventBus(stack, 'Bus');
    bindQueue(fn, queue, { url: 'QUEUE_URL', arn: 'QUEUE_ARN' }, 'send');
    bindSecret(fn, 'KEY_SECRET_ARN', secret);
    bindBus(fn, bus);
    bindSettings(fn, { LIMIT: 5 });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          QUEUE_URL: { Ref: id(queue) },
          QUEUE_ARN: { 'Fn::GetAtt': [id(queue), 'Arn'] },
          KEY_SECRET_ARN: { Ref: id(secret) },
          EVENT_BUS_NAME: { Ref: id(bus) },
          LIMIT: '5',
        },
      },
    });
    const st = statements(t);
    expect(st).toContainEqual(expect.objectContaining({ Action: expect.arrayContaining(['sqs:SendMessage']) }));
    expect(st).toContainEqual(
      expect.objectContaining({ Action: expect.arrayContaining(['secretsmanager:GetSecretValue']), Resource: { Ref: id(secret) } }),
    );
    expect(st).toContainEqual(expect.objectContaining({ Action: 'events:PutEvents', Resource: { 'Fn::GetAtt': [id(bus), 'Arn'] } }));
  });

  test('bindQueue with exact actions grants only those', () => {
    const { stack, fn } = setup();
    bindQueue(fn, new sqs.Queue(stack, 'Queue'), { url: 'DLQ_URL' }, ['sqs:ReceiveMessage', 'sqs:DeleteMessage']);
    expect(statements(Template.fromStack(stack)).map((s) => s.Action)).toEqual([['sqs:ReceiveMessage', 'sqs:DeleteMessage']]);
  });
});
