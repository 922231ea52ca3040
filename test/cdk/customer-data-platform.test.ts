import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IFunction } from 'aws-cdk-lib/aws-lambda';
import { CustomerDataPlatform, CustomerDataPlatformProps } from '../../lib/customer-data-platform';
import { DEFAULT_RULES_DIR } from '../../lib/rules';
import { ScherpFunctionName } from '../../lib/scherp-function';
import { ScherpStack } from '../../lib/scherp-stack';
import { synthScherp, Synthesized } from './synth';

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
    const queueName = template.toJSON().Resources[synth.stack.getLogicalId(platform.queue.node.defaultChild as never)]
      .Properties.QueueName;
    const dlq = template.toJSON().Resources[dlqId].Properties;
    expect(dlq).toMatchObject({ MessageRetentionPeriod: 14 * 24 * 3600, SqsManagedSseEnabled: true });
    expect(dlq.RedriveAllowPolicy.redrivePermission).toBe('byQueue');
    expect(JSON.stringify(dlq.RedriveAllowPolicy.sourceQueueArns)).toContain(`:${queueName}`);
  });

  test('every queue denies plain-HTTP access', () => {
    template.resourceCountIs('AWS::SQS::Queue', 3);
    template.resourceCountIs('AWS::SQS::QueuePolicy', 3);
    for (const policy of Object.values(template.findResources('AWS::SQS::QueuePolicy'))) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });
});

describe('functions', () => {
  const expectedEnv: Record<ScherpFunctionName, string[]> = {
    collect: ['TABLE_NAME', 'QUEUE_URL', 'WRITE_KEY_SECRET_ARN'],
    stitch: ['TABLE_NAME', 'EVENT_BUS_NAME', 'EVENT_RETENTION_DAYS'],
    evaluate: ['TABLE_NAME', 'EVENT_BUS_NAME'],
    profile: ['TABLE_NAME', 'READ_KEY_SECRET_ARN'],
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

  test('stitch keeps events 400 days by default', () => {
    expect(functionProps(synth.stack.platform.functions.stitch).Environment.Variables.EVENT_RETENTION_DAYS).toBe('400');
  });
});

describe('least privilege', () => {
  const writes = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

  test('profile: table reads and the read key only', () => {
    const { actions } = actionsOf(synth.stack.platform.functions.profile);
    for (const forbidden of [...writes, 'sqs:SendMessage', 'events:PutEvents']) expect(actions).not.toContain(forbidden);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'secretsmanager:GetSecretValue']));
  });

  test('collect: GetItem/PutItem, SendMessage, the write key; no PutEvents, no other writes', () => {
    const { actions } = actionsOf(synth.stack.platform.functions.collect);
    expect(actions).not.toContain('events:PutEvents');
    expect(actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(actions).toEqual(expect.arrayContaining(['sqs:SendMessage', 'secretsmanager:GetSecretValue']));
  });

  test.each(['stitch', 'evaluate'] as const)('%s: item reads/writes and PutEvents, no table administration', (name) => {
    const { actions } = actionsOf(synth.stack.platform.functions[name]);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:Query', 'events:PutEvents']));
    expect(actions.filter((a) => /^dynamodb:(Create|Delete|Update)Table|^dynamodb:\*|^secretsmanager:/.test(a))).toEqual([]);
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
  test('routes are exactly the collect and profile endpoints, with Lambda doing auth', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route'));
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual(
      [
        'GET /v1/profiles/{id}',
        'POST /v1/alias',
        'POST /v1/batch',
        'POST /v1/group',
        'POST /v1/identify',
        'POST /v1/page',
        'POST /v1/screen',
        'POST /v1/track',
      ].sort(),
    );
    for (const r of routes) expect(r.Properties.AuthorizationType).toBe('NONE');
  });

  test('two payload 2.0 Lambda proxy integrations: collect and profile', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', 2);
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
        AllowMethods: ['GET', 'POST', 'OPTIONS'],
        AllowHeaders: ['Content-Type', 'Authorization', 'Content-Encoding'],
      },
    });
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
    expect(stage.AccessLogSettings.DestinationArn).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
  });
});

describe('event source mappings', () => {
  test('exactly two: SQS -> stitch and stream -> evaluate; nothing feeds collect', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    const collectId = synth.stack.getLogicalId(synth.stack.platform.functions.collect.node.defaultChild as never);
    template.resourcePropertiesCountIs('AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: collectId } }, 0);
  });

  test('SQS: batch of 10, 1 s window, partial batch failures', () => {
    const p = synth.stack.platform;
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: synth.stack.getLogicalId(p.functions.stitch.node.defaultChild as never) },
      EventSourceArn: { 'Fn::GetAtt': [synth.stack.getLogicalId(p.queue.node.defaultChild as never), 'Arn'] },
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 1,
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
      MaximumRecordAgeInSeconds: 3600,
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
  test('custom bus, archive of scherp events for 30 days, example rule to a log group', () => {
    template.resourceCountIs('AWS::Events::EventBus', 1);
    const busId = synth.stack.getLogicalId(synth.stack.platform.bus.node.defaultChild as never);
    template.hasResourceProperties('AWS::Events::Archive', {
      SourceArn: { 'Fn::GetAtt': [busId, 'Arn'] },
      EventPattern: { source: ['scherp'] },
      RetentionDays: 30,
    });
    const logGroupId = synth.stack.getLogicalId(synth.stack.platform.actionsLogGroup.node.defaultChild as never);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: busId },
      EventPattern: { source: ['scherp'] },
      Targets: [Match.objectLike({ Arn: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([{ Ref: logGroupId }])] }) })],
    });
    template.resourceCountIs('Custom::CloudwatchLogResourcePolicy', 1);
  });
});

describe('secrets and outputs', () => {
  test('three generated 32-char alphanumeric keys', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 3);
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
        'TableName',
        'EventBusName',
        'QueueUrl',
        'DeadLetterQueueUrl',
        'ActionsLogGroupName',
      ].sort(),
    );
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

  test('the seeding policy only touches the table', () => {
    const tableId = synth.stack.getLogicalId(synth.stack.platform.table.node.defaultChild as never);
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'dynamodb:DeleteItem' })]) } },
    });
    const statements = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) expect(s.Resource).toEqual({ 'Fn::GetAtt': [tableId, 'Arn'] });
  });
});

describe('props', () => {
  test('overrides reach the template', () => {
    const rules = [{ id: 'a', enabled: true }, { id: 'b' }];
    const { template: t } = synthScherp(
      {
        removalPolicy: RemovalPolicy.DESTROY,
        maxReceiveCount: 3,
        corsAllowedOrigins: ['https://shop.example'],
        throttlingRateLimit: 50,
        throttlingBurstLimit: 100,
        stitchBatchSize: 25,
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
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 25 });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { MaximumRetryAttempts: 2 });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 60,
      Environment: { Variables: Match.objectLike({ EVENT_RETENTION_DAYS: '30', POWERTOOLS_LOG_LEVEL: 'DEBUG' }) },
    });
    t.hasResourceProperties('AWS::Events::EventBus', { Name: 'shop-actions' });
    t.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 7 });
    t.resourceCountIs('Custom::ScherpRule', 2);
  });

  test('config is validated at synth and reaches stitch and profile as SCHERP_CONFIG', () => {
    const config = { identity: { types: { user_id: { limit: 2 }, crm_id: { from: ['context.externalIds'] } }, phoneDefaultRegion: 'NL' } };
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    const p = new CustomerDataPlatform(stack, 'P', { config });
    const env = (fn: 'stitch' | 'profile' | 'collect') => (Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(p.functions[fn].node.defaultChild as never)].Properties.Environment.Variables as Record<string, string>);
    expect(JSON.parse(env('stitch').SCHERP_CONFIG!)).toEqual(config);
    expect(JSON.parse(env('profile').SCHERP_CONFIG!)).toEqual(config);
    expect(env('collect').SCHERP_CONFIG).toBeUndefined();
    const bad = (c: unknown) => () => new CustomerDataPlatform(new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S'), 'P', { config: c as never });
    expect(bad({ identity: { types: { crm_id: {} } } })).toThrow(/config: .*identity\.types\.crm_id\.from/s);
    expect(bad({ identity: { blockedValues: Array.from({ length: 400 }, (_, i) => `blocked-${i}`) } })).toThrow(/at most 3000 characters/);
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
