import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { CustomerDataPlatform, type CustomerDataPlatformProps } from '../../lib/customer-data-platform';
import { DEFAULT_RULES_DIR } from '../../lib/rules';
import { functionCodeSource, LAMBDAS_DIR, type ScherpFunctionName } from '../../lib/scherp-function';
import { ScherpStack } from '../../lib/scherp-stack';
import { actionsOf, functionProps, synthScherp, type Synthesized } from './synth';

let synth: Synthesized;
let template: Template;
beforeAll(() => {
  synth = synthScherp();
  template = synth.template;
});

describe('table', () => {
  test('pk/sk strings, the sparse members index, on-demand, PITR, TTL, NEW_IMAGE stream, AWS-managed key, retained', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayEquals([
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'mpk', AttributeType: 'S' },
          { AttributeName: 'msk', AttributeType: 'S' },
        ]),
        // An audience's members: only membership items carry its keys; it holds when they entered.
        GlobalSecondaryIndexes: [
          {
            IndexName: 'members',
            KeySchema: [
              { AttributeName: 'mpk', KeyType: 'HASH' },
              { AttributeName: 'msk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['at'] },
          },
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
    rules: [
      'TABLE_NAME',
      'ADMIN_KEY_SECRET_ARN',
      'READ_KEY_SECRET_ARN',
      'HEALTH_QUEUES',
      'JOBS_BUS_NAME',
      'JOBS_BUCKET',
      'EVENT_RETENTION_DAYS',
    ],
    import: ['TABLE_NAME', 'QUEUE_URL', 'ADMIN_KEY_SECRET_ARN'],
    fileImport: ['TABLE_NAME', 'QUEUE_URL', 'IMPORT_BUCKET', 'IMPORT_QUEUE_URL'],
    insights: ['TABLE_NAME', 'READ_KEY_SECRET_ARN', 'ADMIN_KEY_SECRET_ARN'],
    identity: ['TABLE_NAME', 'ADMIN_KEY_SECRET_ARN', 'STITCH_TIMEOUT_SECONDS'],
    jobs: ['TABLE_NAME', 'EVENT_BUS_NAME', 'JOBS_BUCKET', 'EVENT_RETENTION_DAYS', 'JOBS_BUS_NAME'],
    // The console's page and assets: no table, no secret.
    console: [],
  };
  const common = ['POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_LOG_LEVEL', 'NODE_OPTIONS'];

  const names = Object.keys(expectedEnv) as ScherpFunctionName[];

  test.each(names)('%s: nodejs22.x on arm64, memory and timeout set, own log group', (name) => {
    const fn = synth.stack.platform.functions[name];
    const props = functionProps(synth, fn);
    expect(props).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler' });
    expect(props.MemorySize).toEqual(expect.any(Number));
    expect(props.Timeout).toEqual(expect.any(Number));
    expect(props.LoggingConfig.LogGroup).toEqual({ Ref: expect.any(String) });
    const logGroup = template.toJSON().Resources[props.LoggingConfig.LogGroup.Ref];
    expect(logGroup.Properties.RetentionInDays).toBe(30);
  });

  test.each(names)('%s: environment is exactly the contract', (name) => {
    const env = functionProps(synth, synth.stack.platform.functions[name]).Environment.Variables;
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
    expect(functionProps(synth, synth.stack.platform.functions.stitch).Environment.Variables.EVENT_RETENTION_DAYS).toBe('400');
  });

  test("collect limits are Segment's by default; dedupe window and rejected retention 7 days", () => {
    expect(functionProps(synth, synth.stack.platform.functions.collect).Environment.Variables).toMatchObject({
      MAX_EVENT_BYTES: '32768',
      MAX_REQUEST_BYTES: '512000',
      MAX_BATCH_EVENTS: '2500',
      REJECTED_RETENTION_DAYS: '7',
    });
    expect(functionProps(synth, synth.stack.platform.functions.stitch).Environment.Variables.DEDUPE_WINDOW_DAYS).toBe('7');
    expect(functionProps(synth, synth.stack.platform.functions.admin).Environment.Variables.REJECTED_RETENTION_DAYS).toBe('7');
    // profile searches the same retained days when it erases or exports a person.
    expect(functionProps(synth, synth.stack.platform.functions.profile).Environment.Variables.REJECTED_RETENTION_DAYS).toBe('7');
  });
});

describe('least privilege', () => {
  test.each(['stitch', 'evaluate'] as const)('%s: item reads/writes and PutEvents, no table administration', (name) => {
    const { actions } = actionsOf(synth, synth.stack.platform.functions[name]);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:Query', 'events:PutEvents']));
    expect(actions.filter((a) => /^dynamodb:(Create|Delete|Update)Table|^dynamodb:\*|^secretsmanager:/.test(a))).toEqual([]);
  });

  /** The queues a function may send to (logical ids). */
  test('no function policy uses a wildcard action or resource', () => {
    for (const fn of Object.values(synth.stack.platform.functions)) {
      const { actions, resources } = actionsOf(synth, fn);
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

describe('event source mappings', () => {
  test('exactly three: SQS -> stitch, stream -> evaluate, import queue -> fileImport; nothing feeds collect', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 3);
    const collectId = synth.stack.getLogicalId(synth.stack.platform.functions.collect.node.defaultChild as never);
    template.resourcePropertiesCountIs('AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: collectId } }, 0);
  });
});

describe('secrets and outputs', () => {
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
        'ConsoleUrl',
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
        'ConsoleUrl',
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
    expect(names).toHaveLength(26);
  });
});

describe('rule seeding', () => {
  const ruleFiles = fs.readdirSync(DEFAULT_RULES_DIR).filter((f) => f.endsWith('.json'));

  function providerPolicies(t: Template): any[] {
    const [, provider] = Object.entries(t.findResources('AWS::Lambda::Function')).find(([id]) =>
      id.startsWith('AWS679f53fac002430cb0da5b7982bd2287'),
    )!;
    const roleId = provider.Properties.Role['Fn::GetAtt'][0];
    return Object.values(t.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) } }));
  }

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
