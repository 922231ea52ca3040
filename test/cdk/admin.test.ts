import { Duration } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { actionsOf, functionProps, leadingKeysOf, synthScherp, type Synthesized } from './synth';

let synth: Synthesized;
let template: Template;
beforeAll(() => {
  synth = synthScherp();
  template = synth.template;
});

describe('least privilege', () => {
  const writes = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

  test('import: the sources partition only (reads), SendMessage, the admin key; no table writes, no PutEvents', () => {
    const { actions } = actionsOf(synth, synth.stack.platform.functions.import);
    for (const forbidden of [...writes, 'events:PutEvents']) expect(actions).not.toContain(forbidden);
    expect(actions).toEqual(
      expect.arrayContaining(['sqs:SendMessage', 'dynamodb:GetItem', 'dynamodb:Query', 'secretsmanager:GetSecretValue']),
    );
    expect(leadingKeysOf(synth, synth.stack.platform.functions.import)).toEqual([['SOURCES']]);
  });

  test('admin: source, key and rejected items only (leading keys), the admin key; dead letters only on the two ingest queues; no bus, no table administration', () => {
    const fn = synth.stack.platform.functions.admin;
    const { actions } = actionsOf(synth, fn);
    for (const forbidden of [
      'events:PutEvents',
      'dynamodb:DeleteItem',
      'dynamodb:Scan',
      'dynamodb:BatchWriteItem',
      'sqs:PurgeQueue',
      'sqs:DeleteQueue',
      'sqs:SetQueueAttributes',
      'sqs:*',
    ])
      expect(actions).not.toContain(forbidden);
    expect(leadingKeysOf(synth, fn)).toEqual([['SOURCES', 'WKEY#*', 'REJ#*']]);
    expect(actions).toEqual(
      expect.arrayContaining([
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'secretsmanager:GetSecretValue',
      ]),
    );
    const adminSecret = synth.stack.getLogicalId(synth.stack.platform.secrets.adminKey.node.defaultChild as never);
    expect(actionsOf(synth, fn).resources).toContainEqual({ Ref: adminSecret });
  });

  test('admin: reads, deletes and moves letters on the ingest DLQ; sends only to the ingest queue', () => {
    const fn = synth.stack.platform.functions.admin;
    const role = fn.role as iam.Role;
    const roleId = synth.stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
    const statements = Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) } }),
    ).flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const sqsStatements = statements.filter((st) => [st.Action].flat().some((a) => a.startsWith('sqs:')));
    const arnOf = (q: sqs.Queue) => ({ 'Fn::GetAtt': [synth.stack.getLogicalId(q.node.defaultChild as sqs.CfnQueue), 'Arn'] });
    const dlq = arnOf(synth.stack.platform.deadLetterQueue);
    const ingest = arnOf(synth.stack.platform.queue);
    expect(sqsStatements.map((st) => st.Resource)).toEqual(expect.arrayContaining([dlq, ingest]));
    for (const st of sqsStatements) expect([dlq, ingest]).toContainEqual(st.Resource);
    const on = (arn: unknown) =>
      sqsStatements.filter((st) => JSON.stringify(st.Resource) === JSON.stringify(arn)).flatMap((st) => [st.Action].flat());
    expect(on(dlq)).toEqual(
      expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:StartMessageMoveTask']),
    );
    expect(on(dlq)).not.toContain('sqs:SendMessage');
    expect(on(ingest)).toEqual(expect.arrayContaining(['sqs:SendMessage']));
    expect(on(ingest)).not.toContain('sqs:ReceiveMessage');
    expect(on(ingest)).not.toContain('sqs:DeleteMessage');
  });

  test('rules, GET /v1/health: the depth of the ingest queue, its DLQ and the failure queues (GetQueueAttributes only), named in HEALTH_QUEUES', () => {
    const p = synth.stack.platform;
    const env = functionProps(synth, p.functions.rules).Environment.Variables;
    const rendered = JSON.stringify(env.HEALTH_QUEUES);
    for (const q of [p.queue, p.deadLetterQueue, p.streamFailureQueue, p.delayedActionsDeadLetterQueue])
      expect(rendered).toContain(synth.stack.getLogicalId(q.node.defaultChild as never));
    for (const name of ['ingest', 'evaluate-stream-failures', 'delayed-actions']) expect(rendered).toContain(`\\"name\\":\\"${name}\\"`);
    const { actions } = actionsOf(synth, p.functions.rules);
    expect(actions.filter((a) => a.startsWith('sqs:'))).toEqual([
      'sqs:GetQueueAttributes',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueAttributes',
    ]);
  });

  test('rules (admin API): rule items and reads, the admin key; PutEvents only on the jobs bus, no UpdateItem', () => {
    const { actions } = actionsOf(synth, synth.stack.platform.functions.rules);
    expect([...new Set(actions.filter((a) => a.startsWith('dynamodb:')))].sort()).toEqual(
      ['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan'].sort(),
    );
    expect(actions).toContain('secretsmanager:GetSecretValue');
    for (const forbidden of ['dynamodb:UpdateItem', 'sqs:SendMessage']) expect(actions).not.toContain(forbidden);
    // Storing an audience starts its backfill: PutEvents on the jobs construct's own bus, never Scherp's.
    const rulesRole = synth.stack.getLogicalId((synth.stack.platform.functions.rules.role as iam.Role).node.defaultChild as iam.CfnRole);
    const puts = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: rulesRole }]) } }))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((st: any) => [st.Action].flat().includes('events:PutEvents'));
    const jobsBusId = synth.stack.getLogicalId(synth.stack.platform.jobs.jobsBus.node.defaultChild as never);
    expect(puts.map((st: any) => st.Resource)).toEqual([{ 'Fn::GetAtt': [jobsBusId, 'Arn'] }]);
  });
});

describe('identity function', () => {
  test('knows the stitch timeout its final settle pass waits for, and may put only due items outside profile, identity and suppression items', () => {
    const s = synthScherp({ functionSizing: { stitch: { timeout: Duration.seconds(45) } } }, { nag: false });
    const fn = s.stack.platform.functions.identity;
    expect(functionProps(s, fn).Environment.Variables.STITCH_TIMEOUT_SECONDS).toBe('45');
    expect(functionProps(s, s.stack.platform.functions.stitch).Timeout).toBe(45);
    expect(leadingKeysOf(s, fn)).toEqual(expect.arrayContaining([['P#*', 'ID#*#*', 'SUP#*'], ['DUE#*']]));
    expect(functionProps(synth, synth.stack.platform.functions.identity).Environment.Variables.STITCH_TIMEOUT_SECONDS).toBe('30');
  });
});

describe('event retention', () => {
  test('rules: EVENT_RETENTION_DAYS is the construct’s retention (the default, and a chosen one), so a longer window is refused at PUT', () => {
    expect(functionProps(synth, synth.stack.platform.functions.rules).Environment.Variables.EVENT_RETENTION_DAYS).toBe('400');
    const short = synthScherp({ eventRetentionDays: 30 }, { nag: false });
    expect(functionProps(short, short.stack.platform.functions.rules).Environment.Variables.EVENT_RETENTION_DAYS).toBe('30');
  });
});
