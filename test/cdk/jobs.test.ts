/**
 * The jobs state machine (lib/jobs.ts): a Map over parallel-scan segments running the worker
 * Lambda (again while a segment is not done), retried with backoff, then completion; started by
 * `Job Started` on its own bus; the worker's and the state machine's least-privilege grants.
 */
import { Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { synthScherp, type Synthesized } from './synth';

let synth: Synthesized;
let template: Template;
beforeAll(() => {
  synth = synthScherp({}, { nag: false });
  template = synth.template;
});

const logicalId = (c: IConstruct) => Stack.of(c).getLogicalId(c.node.defaultChild as never);

function definition(): any {
  const [sm] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const body = sm!.Properties.DefinitionString;
  // A Fn::Join of strings and ARNs: the ARNs rendered as placeholders.
  const text = (body['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : '"ARN"'.slice(1, -1))).join('');
  return JSON.parse(text);
}

test('a Map over the segments runs the worker until each segment is done, with retries, then completes the job', () => {
  const d = definition();
  expect(d.StartAt).toBe('Segments');
  const map = d.States.Segments;
  expect(map).toMatchObject({ Type: 'Map', ItemsPath: '$.segments', MaxConcurrency: 8, Next: 'Complete' });
  expect(map.ItemSelector).toEqual({ 'jobId.$': '$.jobId', 'segment.$': '$$.Map.Item.Value' });
  const inner = map.ItemProcessor.States;
  expect(inner.WorkSegment).toMatchObject({ Type: 'Task', Next: 'SegmentDone' });
  expect(inner.WorkSegment.Retry).toEqual(
    expect.arrayContaining([expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 4, BackoffRate: 2 })]),
  );
  expect(inner.SegmentDone.Choices).toEqual([{ Variable: '$.done', BooleanEquals: true, Next: 'SegmentFinished' }]);
  expect(inner.SegmentDone.Default).toBe('WorkSegment');
  expect(map.Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'MarkFailed' })]);
  expect(d.States.Complete.Parameters).toEqual({ 'jobId.$': '$.jobId', complete: 'true' });
});

test('the state machine logs and traces, and may invoke only the worker', () => {
  template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
    TracingConfiguration: { Enabled: true },
    LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
  });
  const smRole = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0]!.Properties.RoleArn['Fn::GetAtt'][0];
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: smRole }] } });
  const statements = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
  const invoke = statements.filter((s: any) => [s.Action].flat().includes('lambda:InvokeFunction'));
  const worker = logicalId(synth.stack.platform.jobs.worker);
  for (const s of invoke) for (const r of [s.Resource].flat()) expect(JSON.stringify(r)).toContain(worker);
  expect(statements.flatMap((s: any) => [s.Action].flat()).some((a: string) => a.startsWith('dynamodb:'))).toBe(false);
});

test('Job Started on the jobs bus (not Scherp bus) starts it with the event detail', () => {
  const jobs = synth.stack.platform.jobs;
  template.hasResourceProperties('AWS::Events::Rule', {
    EventBusName: { Ref: logicalId(jobs.jobsBus) },
    EventPattern: { source: ['scherp'], 'detail-type': ['Job Started'] },
    Targets: [Match.objectLike({ Arn: { Ref: logicalId(jobs.stateMachine) }, InputPath: '$.detail' })],
  });
});

test('the worker: item reads and writes on its partitions only (LeadingKeys), Scan apart, PutEvents on Scherp bus; no table administration', () => {
  const role = logicalId(synth.stack.platform.jobs.worker.role!);
  const table = logicalId(synth.stack.platform.table);
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: role }]) } });
  const statements = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement) as any[];
  const actions = statements.flatMap((s) => [s.Action].flat());
  expect(actions).toEqual(
    expect.arrayContaining([
      'dynamodb:Scan',
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
      'events:PutEvents',
      's3:PutObject',
    ]),
  );
  for (const a of ['dynamodb:DeleteTable', 'dynamodb:UpdateTable', 'dynamodb:*', 'states:StartExecution', 'lambda:InvokeFunction'])
    expect(actions).not.toContain(a);
  const onTable = statements.filter((s) => JSON.stringify(s.Resource).includes(table));
  expect(onTable.length).toBeGreaterThan(0);
  for (const s of onTable) {
    const acts = [s.Action].flat();
    if (JSON.stringify(s.Resource).includes('/index/')) {
      // Exports list an audience's members from the members index: Query alone, on that index alone.
      expect([acts, JSON.stringify(s.Resource)]).toEqual([['dynamodb:Query'], expect.stringContaining('/index/members')]);
      continue;
    }
    if (acts.includes('dynamodb:Scan')) {
      // The parallel scan has no partition key to condition on: its own statement, Scan alone.
      expect(acts).toEqual(['dynamodb:Scan']);
      continue;
    }
    // Every item action is conditioned on the partitions the kinds touch.
    const leading = s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
    expect([acts, leading]).toEqual([acts, expect.any(Array)]);
    // The computed-trait recompute it starts at deploy: that job's lock and listing, and the digests item.
    for (const k of leading)
      expect(['P#*', 'RULES', 'AUD#*', 'JOB#*', 'JOBLOCK#*', 'DUE#*', 'JOBLOCK#computed', 'JOBS', 'COMPUTED#DEFS']).toContain(k);
  }
  const writes = (a: string) =>
    onTable.filter((s) => [s.Action].flat().includes(a)).flatMap((s) => s.Condition['ForAllValues:StringLike']['dynamodb:LeadingKeys']);
  expect(writes('dynamodb:PutItem').sort()).toEqual(['COMPUTED#DEFS', 'DUE#*', 'JOB#*', 'JOBLOCK#computed', 'JOBS', 'P#*']);
  expect(writes('dynamodb:ConditionCheckItem')).toEqual(['P#*']);
  expect(writes('dynamodb:UpdateItem')).toEqual(['AUD#*']);
  expect(writes('dynamodb:DeleteItem').sort()).toEqual(['DUE#*', 'JOBLOCK#*']);
});

test('the jobs bucket: private, encrypted, SSL only, export files expire; the worker writes exports/*, the rules function reads them', () => {
  const jobs = synth.stack.platform.jobs;
  const bucket = logicalId(jobs.bucket);
  template.hasResourceProperties('AWS::S3::Bucket', {
    BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Prefix: 'exports/', ExpirationInDays: 7, Status: 'Enabled' })]) },
  });
  const policy = Object.values(template.findResources('AWS::S3::BucketPolicy')).find((p) =>
    JSON.stringify(p.Properties.Bucket).includes(bucket),
  );
  expect(JSON.stringify(policy!.Properties.PolicyDocument)).toContain('aws:SecureTransport');
  expect(jobs.worker.node.tryFindChild('Resource')).toBeDefined();
  const env = (fn: IConstruct) => template.findResources('AWS::Lambda::Function')[logicalId(fn)]!.Properties.Environment.Variables;
  expect(env(jobs.worker).JOBS_BUCKET).toEqual({ Ref: bucket });
  expect(env(synth.stack.platform.functions.rules).JOBS_BUCKET).toEqual({ Ref: bucket });
});

test('time-based exits: an every-minute schedule invokes the worker with { sweep: true }', () => {
  const worker = logicalId(synth.stack.platform.jobs.worker);
  template.hasResourceProperties('AWS::Events::Rule', {
    ScheduleExpression: 'rate(1 minute)',
    Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [worker, 'Arn'] }, Input: JSON.stringify({ sweep: true }) })],
  });
});
