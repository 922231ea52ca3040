import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { CustomerDataPlatform, type CustomerDataPlatformProps } from '../../lib/customer-data-platform';
import { DEFAULT_RULES_DIR } from '../../lib/rules';
import { functionCodeSource, LAMBDAS_DIR, type ScherpFunctionName } from '../../lib/scherp-function';
import { ScherpStack } from '../../lib/scherp-stack';
import { synthScherp, type Synthesized } from './synth';

let synth: Synthesized;
let template: Template;
beforeAll(() => {
  synth = synthScherp();
  template = synth.template;
});

/** Every IAM action granted to a function's role, over all policies attached to it. */
function actionsOf(fn: IFunction): { actions: string[]; resources: unknown[] } {
  const role = fn.role as iam.Role;
  const roleId = synth.stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) },
  });
  const statements = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
  return {
    actions: statements.flatMap((s) => [s.Action].flat()),
    resources: statements.flatMap((s) => [s.Resource].flat()),
  };
}

/** The leading-key conditions of a function's DynamoDB statements. */
function leadingKeysOf(fn: IFunction): (string[] | undefined)[] {
  const role = fn.role as iam.Role;
  const roleId = synth.stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) } });
  return Object.values(policies)
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')))
    .map((s: any) => s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys']);
}

function functionProps(fn: IFunction): Record<string, any> {
  const id = synth.stack.getLogicalId(fn.node.defaultChild as never);
  return template.toJSON().Resources[id].Properties;
}

describe('table', () => {
  test('pk/sk strings, on-demand, PITR, TTL, NEW_IMAGE stream, AWS-managed key, retained', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      },
    });
  });
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
    const stitchTimeout = functionProps(platform.functions.stitch).Timeout;
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

  test('every queue denies plain-HTTP access', () => {
    // Six, and the jobs construct's queue of undeliverable Job Started events (lib/jobs.ts).
    template.resourceCountIs('AWS::SQS::Queue', 7);
    template.resourceCountIs('AWS::SQS::QueuePolicy', 7);
    for (const policy of Object.values(template.findResources('AWS::SQS::QueuePolicy'))) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });
});

describe('functions', () => {
  const expectedEnv: Record<ScherpFunctionName, string[]> = {
    collect: [
      'TABLE_NAME',
      'QUEUE_URL',
      'WRITE_KEY_SECRET_ARN',
      'MAX_EVENT_BYTES',
      'MAX_REQUEST_BYTES',
      'MAX_BATCH_EVENTS',
      'REJECTED_RETENTION_DAYS',
      'SOURCE_RATE_LIMIT',
      'SOURCE_BURST_LIMIT',
    ],
    stitch: ['TABLE_NAME', 'EVENT_BUS_NAME', 'EVENT_RETENTION_DAYS', 'DEDUPE_WINDOW_DAYS', 'DEAD_LETTER_QUEUE_URL', 'MAX_RECEIVE_COUNT'],
    evaluate: ['TABLE_NAME', 'EVENT_BUS_NAME', 'SCHEDULER_ROLE_ARN', 'SCHEDULER_GROUP_NAME', 'SCHEDULER_DLQ_ARN'],
    profile: [
      'TABLE_NAME',
      'READ_KEY_SECRET_ARN',
      'ADMIN_KEY_SECRET_ARN',
      'REJECTED_RETENTION_DAYS',
      'ARCHIVE_RETENTION_DAYS',
      'IMPORT_RETENTION_DAYS',
    ],
    context: ['TABLE_NAME', 'WRITE_KEY_SECRET_ARN', 'USER_TOKEN_SECRET_ARN', 'SOURCE_RATE_LIMIT', 'SOURCE_BURST_LIMIT'],
    admin: [
      'TABLE_NAME',
      'ADMIN_KEY_SECRET_ARN',
      'REJECTED_RETENTION_DAYS',
      'QUEUE_URL',
      'QUEUE_ARN',
      'DEAD_LETTER_QUEUE_URL',
      'DEAD_LETTER_QUEUE_ARN',
    ],
    rules: ['TABLE_NAME', 'ADMIN_KEY_SECRET_ARN', 'READ_KEY_SECRET_ARN', 'JOBS_BUS_NAME'],
    import: ['TABLE_NAME', 'QUEUE_URL', 'ADMIN_KEY_SECRET_ARN'],
    fileImport: ['TABLE_NAME', 'QUEUE_URL', 'IMPORT_BUCKET', 'IMPORT_QUEUE_URL'],
    insights: ['TABLE_NAME', 'READ_KEY_SECRET_ARN', 'ADMIN_KEY_SECRET_ARN'],
    jobs: ['TABLE_NAME', 'EVENT_BUS_NAME'],
  };
  const common = ['POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_LOG_LEVEL', 'NODE_OPTIONS'];

  const names = Object.keys(expectedEnv) as ScherpFunctionName[];

  test.each(names)('%s: nodejs22.x on arm64, memory and timeout set, own log group', (name) => {
    const fn = synth.stack.platform.functions[name];
    const props = functionProps(fn);
    expect(props).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler' });
    expect(props.MemorySize).toEqual(expect.any(Number));
    expect(props.Timeout).toEqual(expect.any(Number));
    expect(props.LoggingConfig.LogGroup).toEqual({ Ref: expect.any(String) });
    const logGroup = template.toJSON().Resources[props.LoggingConfig.LogGroup.Ref];
    expect(logGroup.Properties.RetentionInDays).toBe(30);
  });

  test.each(names)('%s: environment is exactly the contract', (name) => {
    const env = functionProps(synth.stack.platform.functions[name]).Environment.Variables;
    expect(Object.keys(env).sort()).toEqual([...expectedEnv[name], ...common].sort());
    expect(env).toMatchObject({
      POWERTOOLS_SERVICE_NAME: name,
      POWERTOOLS_METRICS_NAMESPACE: 'Scherp',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
  });

  test('code source: bundled from lambdas/<name>/index.ts from the sources, the packaged bundle when compiled', () => {
    const fromSource = functionCodeSource('collect', false);
    expect(fromSource).toMatchObject({
      entry: path.join(LAMBDAS_DIR, 'collect', 'index.ts'),
      handler: 'handler',
      bundling: { externalModules: ['@aws-sdk/*'] },
    });
    expect(fromSource.code).toBeUndefined();
    // Compiled without a package build (no dist/bundles next to it): a message that says what to do.
    expect(() => functionCodeSource('collect', true)).toThrow(/bundled code of the collect function is missing .*npm run build/);
  });

  test('stitch keeps events 400 days by default', () => {
    expect(functionProps(synth.stack.platform.functions.stitch).Environment.Variables.EVENT_RETENTION_DAYS).toBe('400');
  });

  test("collect limits are Segment's by default; dedupe window and rejected retention 7 days", () => {
    expect(functionProps(synth.stack.platform.functions.collect).Environment.Variables).toMatchObject({
      MAX_EVENT_BYTES: '32768',
      MAX_REQUEST_BYTES: '512000',
      MAX_BATCH_EVENTS: '2500',
      REJECTED_RETENTION_DAYS: '7',
    });
    expect(functionProps(synth.stack.platform.functions.stitch).Environment.Variables.DEDUPE_WINDOW_DAYS).toBe('7');
    expect(functionProps(synth.stack.platform.functions.admin).Environment.Variables.REJECTED_RETENTION_DAYS).toBe('7');
    // profile searches the same retained days when it erases or exports a person.
    expect(functionProps(synth.stack.platform.functions.profile).Environment.Variables.REJECTED_RETENTION_DAYS).toBe('7');
  });
});

describe('least privilege', () => {
  const writes = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

  test('import: the sources partition only (reads), SendMessage, the admin key; no table writes, no PutEvents', () => {
    const { actions } = actionsOf(synth.stack.platform.functions.import);
    for (const forbidden of [...writes, 'events:PutEvents']) expect(actions).not.toContain(forbidden);
    expect(actions).toEqual(
      expect.arrayContaining(['sqs:SendMessage', 'dynamodb:GetItem', 'dynamodb:Query', 'secretsmanager:GetSecretValue']),
    );
    expect(leadingKeysOf(synth.stack.platform.functions.import)).toEqual([['SOURCES']]);
  });

  test('profile: table reads, and for erasure batch writes on profile, identity, suppression, rejected-event and debugger items only; the keys', () => {
    const { actions } = actionsOf(synth.stack.platform.functions.profile);
    for (const forbidden of ['sqs:SendMessage', 'events:PutEvents']) expect(actions).not.toContain(forbidden);
    // Single-item writes only where erasure takes the person out of every audience: PutItem on
    // profile items (PROFILE#AUD), UpdateItem and DeleteItem on audience items (members, counts).
    const profileRole = synth.stack.getLogicalId(
      (synth.stack.platform.functions.profile.role as iam.Role).node.defaultChild as iam.CfnRole,
    );
    const single = Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: profileRole }]) } }),
    )
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((st: any) =>
        [st.Action].flat().some((a: string) => ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'].includes(a)),
      );
    expect(
      single.map((st: any) => [[st.Action].flat().sort(), st.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys']]),
    ).toEqual([
      [['dynamodb:PutItem'], ['P#*']],
      [['dynamodb:DeleteItem', 'dynamodb:UpdateItem'], ['AUD#*']],
    ]);
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem', 'secretsmanager:GetSecretValue']),
    );
    // The read statements have no leading-key limit; the only write statement is limited to the person's items.
    const fn = synth.stack.platform.functions.profile;
    const roleId = synth.stack.getLogicalId((fn.role as iam.Role).node.defaultChild as iam.CfnRole);
    const writeStatements = Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) } }),
    )
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((st: any) => [st.Action].flat().includes('dynamodb:BatchWriteItem'));
    expect(
      writeStatements.map((st: any) => [[st.Action].flat(), st.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys']]),
    ).toEqual([[['dynamodb:BatchWriteItem'], ['P#*', 'ID#*#*', 'SUP#*', 'REJ#*', 'DBG#*']]]);
    expect(leadingKeysOf(fn).filter((k) => k !== undefined)).toEqual([['P#*', 'ID#*#*', 'SUP#*', 'REJ#*', 'DBG#*'], ['P#*'], ['AUD#*']]);
  });

  test('context (public write key): identity, profile and write-key reads only (leading keys), the write key and user-token secrets; no writes, no read or admin key', () => {
    const fn = synth.stack.platform.functions.context;
    const { actions, resources } = actionsOf(fn);
    expect(actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:Query',
    ]);
    expect(leadingKeysOf(fn)).toEqual([['ID#*#*'], ['P#*'], ['WKEY#*']]);
    for (const forbidden of ['sqs:SendMessage', 'events:PutEvents', 's3:GetObject']) expect(actions).not.toContain(forbidden);
    const secretRefs = resources
      .filter((r: any) => r && typeof r === 'object' && 'Ref' in r)
      .map((r: any) => r.Ref)
      .sort();
    const { secrets } = synth.stack.platform;
    const idOf = (c: IConstruct) => synth.stack.getLogicalId(c.node.defaultChild as never);
    expect(secretRefs).toEqual([idOf(secrets.writeKey), idOf(secrets.userTokenSecret)].sort());
  });

  test('profile no longer reads the write key or the user-token secret (context serves the public route)', () => {
    const { resources } = actionsOf(synth.stack.platform.functions.profile);
    const { secrets } = synth.stack.platform;
    const refs = JSON.stringify(resources);
    const idOf = (c: IConstruct) => synth.stack.getLogicalId(c.node.defaultChild as never);
    expect(refs).not.toContain(`"${idOf(secrets.writeKey)}"`);
    expect(refs).not.toContain(`"${idOf(secrets.userTokenSecret)}"`);
    expect(refs).toContain(`"${idOf(secrets.readKey)}"`);
  });

  /** The dynamodb:LeadingKeys a function's table statements are limited to (undefined: unlimited). */
  test('collect: key lookups, rejected events, debugger items and rejected counters only (leading keys), SendMessage, the write key; no PutEvents', () => {
    const { actions } = actionsOf(synth.stack.platform.functions.collect);
    expect(actions).not.toContain('events:PutEvents');
    expect(actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
    ]);
    expect(leadingKeysOf(synth.stack.platform.functions.collect)).toEqual([['WKEY#*', 'REJ#*', 'DBG#*'], ['STATS#*']]);
    expect(actions).toEqual(expect.arrayContaining(['sqs:SendMessage', 'secretsmanager:GetSecretValue']));
  });

  test('admin: source, key and rejected items only (leading keys), the admin key; dead letters only on the two ingest queues; no bus, no table administration', () => {
    const fn = synth.stack.platform.functions.admin;
    const { actions } = actionsOf(fn);
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
    expect(leadingKeysOf(fn)).toEqual([['SOURCES', 'WKEY#*', 'REJ#*']]);
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
    expect(actionsOf(fn).resources).toContainEqual({ Ref: adminSecret });
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

  test.each(['stitch', 'evaluate'] as const)('%s: item reads/writes and PutEvents, no table administration', (name) => {
    const { actions } = actionsOf(synth.stack.platform.functions[name]);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:Query', 'events:PutEvents']));
    expect(actions.filter((a) => /^dynamodb:(Create|Delete|Update)Table|^dynamodb:\*|^secretsmanager:/.test(a))).toEqual([]);
  });

  /** The queues a function may send to (logical ids). */
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

  test('rules (admin API): rule items and reads, the admin key; PutEvents only on the jobs bus, no UpdateItem', () => {
    const { actions } = actionsOf(synth.stack.platform.functions.rules);
    expect(actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual(
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

  test('delayed actions: evaluate creates schedules in its group and passes only the scheduler role', () => {
    const p = synth.stack.platform;
    const { actions, resources } = actionsOf(p.functions.evaluate);
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
    const schedulerActions = actionsOf({ role: p.schedulerRole } as never).actions;
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
    expect(actionsOf(synth.stack.platform.functions.evaluate).actions).toEqual(
      expect.arrayContaining(['dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:DescribeStream']),
    );
  });

  test('no function policy uses a wildcard action or resource', () => {
    for (const fn of Object.values(synth.stack.platform.functions)) {
      const { actions, resources } = actionsOf(fn);
      expect(actions.filter((a) => a.includes('*'))).toEqual([]);
      expect(resources.filter((r) => typeof r === 'string' && r.includes('*'))).toEqual([]);
    }
  });

  test('no function role uses a managed policy', () => {
    for (const fn of Object.values(synth.stack.platform.functions)) {
      const roleId = synth.stack.getLogicalId((fn.role as iam.Role).node.defaultChild as iam.CfnRole);
      expect(template.toJSON().Resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('HTTP API', () => {
  test('routes are exactly the collect, profile, context, admin, rules and insights endpoints, with Lambda doing auth', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route'));
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual(
      [
        'GET /v1/profiles/{id}',
        'GET /v1/profiles/{id}/events',
        'POST /v1/context',
        'POST /v1/import',
        'GET /v1/profiles/{id}/export',
        'DELETE /v1/profiles/{id}',
        'POST /v1/sources',
        'GET /v1/sources',
        'DELETE /v1/sources/{id}',
        'PATCH /v1/sources/{id}',
        'POST /v1/sources/{id}/keys',
        'DELETE /v1/sources/{id}/keys/{keyId}',
        'GET /v1/rejected',
        'GET /v1/dlq',
        'POST /v1/dlq/redrive',
        'GET /v1/rules',
        'GET /v1/rules/{id}',
        'PUT /v1/rules/{id}',
        'DELETE /v1/rules/{id}',
        'POST /v1/rules/{id}/test',
        'POST /v1/rules/{id}/backtest',
        'GET /v1/audiences',
        'GET /v1/audiences/{id}',
        'GET /v1/audiences/{id}/members',
        'GET /v1/audiences/{id}/export',
        'GET /v1/jobs',
        'GET /v1/jobs/{id}',
        'POST /v1/jobs/{id}/cancel',
        'POST /v1/debug/sessions',
        'GET /v1/debug/events',
        'GET /v1/stats',
        'POST /v1/alias',
        'POST /v1/batch',
        'POST /v1/group',
        'POST /v1/identify',
        'POST /v1/page',
        'POST /v1/screen',
        'POST /v1/track',
        // analytics.js posts to one-letter paths under its apiHost.
        ...['t', 'i', 'p', 's', 'g', 'a', 'b'].map((x) => `POST /v1/${x}`),
        // Browser SDK settings (analytics.js cdnURL, RudderStack configUrl) and RudderStack's beacon.
        'GET /v1/projects/{writeKey}/settings',
        'GET /sourceConfig',
        'POST /beacon/v1/batch',
        // The OpenAPI document (public, served by collect).
        'GET /v1/openapi.json',
      ].sort(),
    );
    for (const r of routes) expect(r.Properties.AuthorizationType).toBe('NONE');
  });

  test('seven payload 2.0 Lambda proxy integrations: collect, profile, context, admin, rules, import and insights', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', 7);
    template.allResourcesProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
    });
  });

  test('CORS preflight', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: {
        AllowOrigins: ['*'],
        // Every method a route uses (the admin APIs PUT, PATCH and DELETE).
        AllowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
        // Besides auth and bodies: analytics.js retries (X-Retry-Count), RudderStack JS's event headers.
        AllowHeaders: [
          'Content-Type',
          'Authorization',
          'Content-Encoding',
          'X-Retry-Count',
          'AnonymousId',
          'SentAt',
          'Rsa-Recovered',
          'Rsa-Retry-Attempt',
          'Rsa-Retry-Reason',
          'Rsa-Since-First-Attempt',
          'Rsa-Since-Last-Attempt',
        ],
      },
    });
    // Every method a route uses passes the preflight (the admin APIs PUT and DELETE).
    const api = Object.values(template.findResources('AWS::ApiGatewayV2::Api'))[0]!;
    const routeMethods = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => String(r.Properties.RouteKey).split(' ')[0],
    );
    for (const m of routeMethods) expect(api.Properties.CorsConfiguration.AllowMethods).toContain(m);
  });

  test('default stage: throttled, JSON access logs', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0].Properties;
    expect(stage).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 },
    });
    expect(JSON.parse(stage.AccessLogSettings.Format)).toHaveProperty('requestId', '$context.requestId');
    // Requests over the rate and burst are answered 429 by API Gateway itself (no function runs).
    expect(stage.DefaultRouteSettings.ThrottlingRateLimit).toBeGreaterThan(0);
    expect(stage.AccessLogSettings.DestinationArn).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
  });
});

describe('file import (drop bucket)', () => {
  const id = (c: { node: { defaultChild?: unknown } }) => synth.stack.getLogicalId(c.node.defaultChild as never);

  test('bucket: private, encrypted, SSL only, files and reports expire after 30 days, retained', () => {
    const bucket = template.toJSON().Resources[id(synth.stack.platform.fileImport.bucket)];
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Prefix: 'imports/', ExpirationInDays: 30, Status: 'Enabled' }),
        expect.objectContaining({ Prefix: 'reports/', ExpirationInDays: 30, Status: 'Enabled' }),
      ]),
    );
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  test('new objects under imports/ notify the import queue, which feeds fileImport one job at a time', () => {
    const fi = synth.stack.platform.fileImport;
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: id(fi.bucket) },
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            QueueArn: { 'Fn::GetAtt': [id(fi.queue), 'Arn'] },
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'imports/' }] } },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: id(fi.function) },
      EventSourceArn: { 'Fn::GetAtt': [id(fi.queue), 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    // A job may run the whole 15 minutes; the queue hides it six times as long, then dead-letters after 3 receives.
    expect(functionProps(fi.function).Timeout).toBe(900);
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 5400,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [id(fi.deadLetterQueue), 'Arn'] }, maxReceiveCount: 3 },
    });
  });

  test('fileImport: reads (and lists) imports/*, writes reports/*, sends to the import and ingest queues, reads the sources; nothing else', () => {
    const fi = synth.stack.platform.fileImport;
    const { actions, resources } = actionsOf(fi.function);
    expect([...new Set(actions)].sort()).toEqual(
      [
        'dynamodb:GetItem',
        'dynamodb:Query',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:GetObject',
        's3:ListBucket',
        's3:PutObject',
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
        'sqs:SendMessage',
      ].sort(),
    );
    expect(resources).toEqual(
      expect.arrayContaining([
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id(fi.bucket), 'Arn'] }, '/imports/*']] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id(fi.bucket), 'Arn'] }, '/reports/*']] },
      ]),
    );
    expect(leadingKeysOf(fi.function)).toEqual([['SOURCES']]);
  });

  test('an existing bucket is used instead of a new one; retention is validated', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Own');
    const bucket = new s3.Bucket(stack, 'Mine');
    const platform = new CustomerDataPlatform(stack, 'P', { importBucket: bucket });
    expect(platform.fileImport.bucket).toBe(bucket);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::S3::Bucket', 1);
    t.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket) },
    });
    expect(() => new CustomerDataPlatform(new Stack(app, 'Bad'), 'P', { importRetentionDays: 0 })).toThrow(
      /importRetentionDays must be an integer from 1/,
    );
  });
});

describe('event source mappings', () => {
  test('exactly three: SQS -> stitch, stream -> evaluate, import queue -> fileImport; nothing feeds collect', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 3);
    const collectId = synth.stack.getLogicalId(synth.stack.platform.functions.collect.node.defaultChild as never);
    template.resourcePropertiesCountIs('AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: collectId } }, 0);
  });

  test('SQS: batch of 10, 1 s window, at most 20 concurrent stitch invocations, partial batch failures', () => {
    const p = synth.stack.platform;
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: synth.stack.getLogicalId(p.functions.stitch.node.defaultChild as never) },
      EventSourceArn: { 'Fn::GetAtt': [synth.stack.getLogicalId(p.queue.node.defaultChild as never), 'Arn'] },
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 1,
      ScalingConfig: { MaximumConcurrency: 20 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

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

describe('secrets and outputs', () => {
  test('four generated 32-char alphanumeric secrets: three keys and the user-token secret', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 4);
    template.allResourcesProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 32, ExcludePunctuation: true, IncludeSpace: false },
    });
  });

  test('outputs', () => {
    const descriptions = Object.keys(template.toJSON().Outputs).map((id) => id.replace(/^Platform|[0-9A-F]{8}$/g, ''));
    expect(descriptions.sort()).toEqual(
      [
        'ApiUrl',
        'WriteKeySecretArn',
        'ReadKeySecretArn',
        'AdminKeySecretArn',
        'UserTokenSecretArn',
        'TableName',
        'EventBusName',
        'QueueUrl',
        'DeadLetterQueueUrl',
        'ImportBucketName',
        'AlarmTopicArn',
        'DashboardName',
      ].sort(),
    );
  });

  test('outputs have stable names, not hashed construct paths (as the README lists them)', () => {
    expect(Object.keys(template.toJSON().Outputs).sort()).toEqual(
      [
        'ApiUrl',
        'WriteKeySecretArn',
        'ReadKeySecretArn',
        'AdminKeySecretArn',
        'UserTokenSecretArn',
        'TableName',
        'EventBusName',
        'QueueUrl',
        'DeadLetterQueueUrl',
        'ImportBucketName',
        'AlarmTopicArn',
        'DashboardName',
      ].sort(),
    );
    template.hasOutput('ApiUrl', { Description: 'Base URL of the Scherp API' });
    template.hasOutput('TableName', { Value: { Ref: synth.stack.getLogicalId(synth.stack.platform.table.node.defaultChild as never) } });
  });

  test('outputPrefix: two platforms in one stack keep apart', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    new CustomerDataPlatform(stack, 'Eu', { outputPrefix: 'Eu' });
    new CustomerDataPlatform(stack, 'Us', { outputPrefix: 'Us' });
    const names = Object.keys(Template.fromStack(stack).toJSON().Outputs);
    expect(names).toEqual(expect.arrayContaining(['EuApiUrl', 'UsApiUrl', 'EuTableName', 'UsTableName']));
    expect(names).toHaveLength(24);
  });
});

describe('rule seeding', () => {
  const ruleFiles = fs.readdirSync(DEFAULT_RULES_DIR).filter((f) => f.endsWith('.json'));

  test('one custom resource per rules/*.json, PutItem on create/update, DeleteItem on delete', () => {
    expect(ruleFiles.length).toBeGreaterThan(0);
    template.resourceCountIs('Custom::ScherpRule', ruleFiles.length);
    const resources = Object.values(template.findResources('Custom::ScherpRule'));
    for (const file of ruleFiles) {
      const rule = JSON.parse(fs.readFileSync(path.join(DEFAULT_RULES_DIR, file), 'utf8'));
      const resource = resources.find((r) => JSON.stringify(r.Properties.Create).includes(`rule:${rule.id}`));
      expect(resource).toBeDefined();
      const create = JSON.stringify(resource!.Properties.Create);
      expect(create).toContain('putItem');
      expect(create).toContain(JSON.stringify(JSON.stringify({ S: 'RULES' })).slice(1, -1));
      expect(JSON.stringify(resource!.Properties.Update)).toContain('putItem');
      expect(JSON.stringify(resource!.Properties.Delete)).toContain('deleteItem');
    }
  });

  test("the construct seeds no rules unless asked (the example rules are this repository's stack only)", () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    new CustomerDataPlatform(stack, 'P');
    Template.fromStack(stack).resourceCountIs('Custom::ScherpRule', 0);
    const asked = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    new CustomerDataPlatform(asked, 'P', { rulesDir: DEFAULT_RULES_DIR });
    Template.fromStack(asked).resourceCountIs('Custom::ScherpRule', ruleFiles.length);
  });

  /** The policies of the role CDK's custom-resource provider runs under. */
  function providerPolicies(t: Template): any[] {
    const [, provider] = Object.entries(t.findResources('AWS::Lambda::Function')).find(([id]) =>
      id.startsWith('AWS679f53fac002430cb0da5b7982bd2287'),
    )!;
    const roleId = provider.Properties.Role['Fn::GetAtt'][0];
    return Object.values(t.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) } }));
  }

  test('the seeding policy only touches the table', () => {
    const tableId = synth.stack.getLogicalId(synth.stack.platform.table.node.defaultChild as never);
    const statements = providerPolicies(template).flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      expect([s.Action].flat().sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:PutItem']);
      expect([s.Resource].flat()).toEqual([{ 'Fn::GetAtt': [tableId, 'Arn'] }]);
    }
  });

  test('sixty rules: one policy on the provider role, not one per rule (IAM allows a role 10,240 bytes of inline policies)', () => {
    const rule = JSON.parse(fs.readFileSync(path.join(DEFAULT_RULES_DIR, 'high-value-order.json'), 'utf8'));
    const rules = Array.from({ length: 60 }, (_, i) => ({ ...rule, id: `rule-${i}` }));
    const { template: t } = synthScherp({ rules }, { nag: false });
    t.resourceCountIs('Custom::ScherpRule', 60);
    const policies = providerPolicies(t);
    expect(policies).toHaveLength(1);
    expect(JSON.stringify(policies.map((p) => p.Properties.PolicyDocument)).length).toBeLessThan(10240);
  });

  test('every rule is validated at synth with the rules API schema, by field path', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    const rule = JSON.parse(fs.readFileSync(path.join(DEFAULT_RULES_DIR, 'high-value-order.json'), 'utf8'));
    expect(() => new CustomerDataPlatform(stack, 'P', { rules: [{ ...rule, trigger: { types: ['nope'] } }] })).toThrow(
      /rule "high-value-order": trigger\.types/,
    );
  });
});

describe('props', () => {
  test('overrides reach the template', () => {
    const rule = JSON.parse(fs.readFileSync(path.join(DEFAULT_RULES_DIR, 'high-value-order.json'), 'utf8'));
    const rules = [
      { ...rule, id: 'a' },
      { ...rule, id: 'b', enabled: false },
    ];
    const { template: t } = synthScherp(
      {
        removalPolicy: RemovalPolicy.DESTROY,
        maxReceiveCount: 3,
        corsAllowedOrigins: ['https://shop.example'],
        throttlingRateLimit: 50,
        throttlingBurstLimit: 100,
        stitchBatchSize: 25,
        stitchMaxConcurrency: 5,
        evaluateMaxRecordAge: Duration.hours(6),
        evaluateRetryAttempts: 2,
        eventRetentionDays: 30,
        logLevel: 'DEBUG',
        eventBusName: 'shop-actions',
        archiveRetention: Duration.days(7),
        functionSizing: { stitch: { timeout: Duration.seconds(60) } },
        rules,
      },
      { nag: false },
    );
    t.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Delete' });
    t.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }), VisibilityTimeout: 361 });
    t.hasResourceProperties('AWS::ApiGatewayV2::Api', { CorsConfiguration: Match.objectLike({ AllowOrigins: ['https://shop.example'] }) });
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 } });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 25, ScalingConfig: { MaximumConcurrency: 5 } });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { MaximumRecordAgeInSeconds: 6 * 3600 });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { MaximumRetryAttempts: 2 });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 60,
      Environment: { Variables: Match.objectLike({ EVENT_RETENTION_DAYS: '30', POWERTOOLS_LOG_LEVEL: 'DEBUG' }) },
    });
    t.hasResourceProperties('AWS::Events::EventBus', { Name: 'shop-actions' });
    t.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 7 });
    t.resourceCountIs('Custom::ScherpRule', 2);
  });

  test('ingest limits, dedupe window and rejected retention reach the functions', () => {
    const { template: t } = synthScherp(
      { maxEventBytes: 4096, maxRequestBytes: 65536, maxBatchEvents: 100, dedupeWindowDays: 2, rejectedRetentionDays: 3, rules: [] },
      { nag: false },
    );
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          MAX_EVENT_BYTES: '4096',
          MAX_REQUEST_BYTES: '65536',
          MAX_BATCH_EVENTS: '100',
          REJECTED_RETENTION_DAYS: '3',
        }),
      },
    });
    t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ DEDUPE_WINDOW_DAYS: '2' }) } });
  });

  test('config is validated at synth and reaches stitch and profile as SCHERP_CONFIG', () => {
    const config = { identity: { types: { user_id: { limit: 2 }, crm_id: { from: ['context.externalIds'] } }, phoneDefaultRegion: 'NL' } };
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    const p = new CustomerDataPlatform(stack, 'P', { config });
    const env = (fn: 'stitch' | 'profile' | 'collect') =>
      Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(p.functions[fn].node.defaultChild as never)].Properties.Environment
        .Variables as Record<string, string>;
    expect(JSON.parse(env('stitch').SCHERP_CONFIG!)).toEqual(config);
    expect(JSON.parse(env('profile').SCHERP_CONFIG!)).toEqual(config);
    expect(env('collect').SCHERP_CONFIG).toBeUndefined();
    const bad = (c: unknown) => () =>
      new CustomerDataPlatform(new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S'), 'P', { config: c as never });
    expect(bad({ identity: { types: { crm_id: {} } } })).toThrow(/config: .*identity\.types\.crm_id\.from/s);
    expect(bad({ identity: { blockedValues: Array.from({ length: 400 }, (_, i) => `blocked-${i}`) } })).toThrow(/at most 3000 bytes/);
    // Lambda counts bytes: 1,000 characters of three UTF-8 bytes each are 3,000+ bytes.
    expect(bad({ identity: { blockedValues: ['€'.repeat(1000)] } })).toThrow(/at most 3000 bytes/);
  });

  test('an explicit undefined keeps the default', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    new CustomerDataPlatform(stack, 'P', { maxReceiveCount: undefined });
    Template.fromStack(stack).hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }),
    });
  });

  const invalid: Array<[string, CustomerDataPlatformProps, RegExp]> = [
    ['maxReceiveCount 0', { maxReceiveCount: 0 }, /maxReceiveCount/],
    ['fractional retention days', { eventRetentionDays: 1.5 }, /eventRetentionDays/],
    ['stitch batch too large', { stitchBatchSize: 10001 }, /stitchBatchSize/],
    ['negative rate', { throttlingRateLimit: -1 }, /throttlingRateLimit/],
    ['no CORS origin', { corsAllowedOrigins: [] }, /corsAllowedOrigins/],
    ['bad bus name', { eventBusName: 'has space' }, /eventBusName/],
    ['record age too short', { evaluateMaxRecordAge: Duration.seconds(10) }, /evaluateMaxRecordAge/],
    ['archive in hours', { archiveRetention: Duration.hours(5) }, /archiveRetention/],
    ['collect slower than API Gateway', { functionSizing: { collect: { timeout: Duration.seconds(45) } } }, /collect\.timeout/],
    ['tiny memory', { functionSizing: { evaluate: { memorySize: 64 } } }, /evaluate\.memorySize/],
    ['rule without id', { rules: [{ name: 'x' } as never] }, /"id"/],
    ['duplicate rule ids', { rules: [{ id: 'x' }, { id: 'x' }] }, /duplicate rule id "x"/],
    ['missing rules dir', { rulesDir: '/nonexistent/rules' }, /rulesDir/],
    ['output prefix with a dash', { outputPrefix: 'eu-west' }, /outputPrefix "eu-west" must be letters and digits/],
    ['request limit over API Gateway', { maxRequestBytes: 20 * 1024 * 1024 }, /maxRequestBytes/],
    [
      "request limit over Lambda's 6 MB payload once base64-encoded",
      { maxRequestBytes: 5 * 1024 * 1024 },
      /maxRequestBytes must be an integer from 1024 to 4669440/,
    ],
    ['stitch concurrency below the SQS minimum', { stitchMaxConcurrency: 1 }, /stitchMaxConcurrency/],
    ['zero batch', { maxBatchEvents: 0 }, /maxBatchEvents/],
    ['fractional dedupe window', { dedupeWindowDays: 0.5 }, /dedupeWindowDays/],
    ['admin slower than API Gateway', { functionSizing: { admin: { timeout: Duration.seconds(31) } } }, /admin\.timeout/],
  ];
  test.each(invalid)('rejects %s', (_name, props, message) => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    expect(() => new CustomerDataPlatform(stack, 'P', props)).toThrow(message);
  });

  test('ScherpStack passes platform props through', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new ScherpStack(app, 'S', { platform: { eventBusName: 'passed-through', rules: [] } });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::EventBus', { Name: 'passed-through' });
  });
});
