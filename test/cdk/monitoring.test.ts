import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, SecretValue, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as sns from 'aws-cdk-lib/aws-sns';
import { CustomerDataPlatform } from '../../lib/customer-data-platform';
import { DASHBOARD_SECTIONS, DEFAULT_ALARM_THRESHOLDS } from '../../lib/monitoring';
import { nagPacks } from '../../lib/nag-packs';
import { ScherpStack } from '../../lib/scherp-stack';
import { synthScherp, type Synthesized } from './synth';

type Resource = { Type: string; Properties: Record<string, any> };
interface MetricStat {
  Namespace: string;
  MetricName: string;
  Dimensions?: { Name: string; Value: unknown }[];
}

function alarmsOf(template: Template): Resource[] {
  return Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resource[];
}

/** The metrics an alarm reads (its single metric or the metrics of its expression). */
function metricsOf(alarm: Resource): MetricStat[] {
  const p = alarm.Properties;
  if (p.MetricName) return [{ Namespace: p.Namespace, MetricName: p.MetricName, Dimensions: p.Dimensions }];
  return (p.Metrics as { MetricStat?: { Metric: MetricStat } }[]).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []));
}

/** Alarms reading `namespace/metricName`, optionally with a dimension of that value. */
function alarmsOn(template: Template, namespace: string, metricName: string, dimension?: { name: string; value: unknown }): Resource[] {
  return alarmsOf(template).filter((a) =>
    metricsOf(a).some(
      (m) =>
        m.Namespace === namespace &&
        m.MetricName === metricName &&
        (dimension === undefined ||
          (m.Dimensions ?? []).some((d) => d.Name === dimension.name && JSON.stringify(d.Value) === JSON.stringify(dimension.value))),
    ),
  );
}

function only(alarms: Resource[], what: string): Resource {
  if (alarms.length !== 1) throw new Error(`expected one alarm on ${what}, found ${alarms.length}`);
  return alarms[0]!;
}

function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

describe('default deployment', () => {
  let synth: Synthesized;
  let template: Template;
  let topicRef: { Ref: string };
  beforeAll(() => {
    synth = synthScherp();
    template = synth.template;
    topicRef = { Ref: logicalId(synth.stack, synth.stack.platform.monitoring.alarmTopic as sns.Topic) };
  });

  test('an SNS topic encrypted with a rotated customer-managed key CloudWatch may use, SSL only', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    const key = synth.stack.platform.monitoring.alarmTopicKey!;
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [logicalId(synth.stack, key), 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [topicRef],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Allow', Action: 'sns:Publish', Principal: { Service: 'cloudwatch.amazonaws.com' } }),
        ]),
      },
    });
  });

  test('every alarm notifies the topic on ALARM and OK, and has a name of its own', () => {
    const alarms = alarmsOf(template);
    expect(alarms.length).toBeGreaterThan(20);
    for (const a of alarms) {
      expect(a.Properties.ActionsEnabled).toBe(true);
      expect(a.Properties.AlarmActions).toEqual([topicRef]);
      expect(a.Properties.OKActions).toEqual([topicRef]);
    }
    const names = alarms.map((a) => a.Properties.AlarmName as string);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^Scherp-Platform-Monitoring-/);
  });

  test('every dead-letter queue alarms on any visible message', () => {
    const p = synth.stack.platform;
    for (const queue of [p.deadLetterQueue, p.streamFailureQueue, p.delayedActionsDeadLetterQueue, p.fileImport.deadLetterQueue]) {
      const alarm = only(
        alarmsOn(template, 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', {
          name: 'QueueName',
          value: { 'Fn::GetAtt': [logicalId(synth.stack, queue), 'QueueName'] },
        }),
        queue.node.path,
      );
      expect(alarm.Properties).toMatchObject({
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
    }
    // The ingest queue itself is not a dead-letter queue: no "any message" alarm on it.
    expect(
      alarmsOn(template, 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', {
        name: 'QueueName',
        value: { 'Fn::GetAtt': [logicalId(synth.stack, p.queue), 'QueueName'] },
      }),
    ).toEqual([]);
  });

  test("evaluate's stream mapping alarms when its iterator age passes 5 minutes", () => {
    const alarm = only(alarmsOn(template, 'AWS/Lambda', 'IteratorAge'), 'IteratorAge');
    expect(metricsOf(alarm)[0]!.Dimensions).toEqual([
      { Name: 'FunctionName', Value: { Ref: logicalId(synth.stack, synth.stack.platform.functions.evaluate) } },
    ]);
    expect(alarm.Properties).toMatchObject({ Threshold: 300_000, ComparisonOperator: 'GreaterThanThreshold' });
  });

  test('each function of the construct (its function map) alarms on any error and any throttle', () => {
    const fns = Object.entries(synth.stack.platform.functions);
    expect(fns.length).toBeGreaterThanOrEqual(8);
    for (const [name, fn] of fns) {
      const dimension = { name: 'FunctionName', value: { Ref: logicalId(synth.stack, fn) } };
      const errors = only(alarmsOn(template, 'AWS/Lambda', 'Errors', dimension), `${name} Errors`);
      const throttles = only(alarmsOn(template, 'AWS/Lambda', 'Throttles', dimension), `${name} Throttles`);
      for (const a of [errors, throttles]) expect(a.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    }
  });

  test('the HTTP API alarms on a sustained 5xx rate over 1 % and p99 latency over 2 s', () => {
    const api = { name: 'ApiId', value: { Ref: logicalId(synth.stack, synth.stack.platform.httpApi) } };
    const faults = only(alarmsOn(template, 'AWS/ApiGateway', '5xx', api), '5xx');
    expect(faults.Properties).toMatchObject({
      Threshold: 0.01,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(faults.Properties.Metrics[0].MetricStat.Stat).toBe('Average');
    const latency = only(alarmsOn(template, 'AWS/ApiGateway', 'Latency', api), 'Latency');
    expect(latency.Properties).toMatchObject({ Threshold: 2000, EvaluationPeriods: 3, DatapointsToAlarm: 3 });
    expect(latency.Properties.Metrics[0].MetricStat.Stat).toBe('p99');
    expect(metricsOf(latency)[0]!.Dimensions).toContainEqual({ Name: 'Stage', Value: '$default' });
  });

  test("the rejected-events alarm reads collect's Powertools metrics as a percentage", () => {
    const alarm = only(alarmsOn(template, 'Scherp', 'EventsRejected', { name: 'service', value: 'collect' }), 'EventsRejected');
    const names = metricsOf(alarm)
      .map((m) => m.MetricName)
      .sort();
    expect(names).toEqual(['EventsAccepted', 'EventsRejected']);
    const expression = alarm.Properties.Metrics.find((m: { Expression?: string }) => m.Expression);
    expect(expression.Expression).toBe('100 * FILL(rejected, 0) / (FILL(accepted, 0) + FILL(rejected, 0))');
    expect(alarm.Properties).toMatchObject({ Threshold: 10, EvaluationPeriods: 3, TreatMissingData: 'notBreaching' });
  });

  test('the table alarms on throttled reads and throttled writes', () => {
    const table = { name: 'TableName', value: { Ref: logicalId(synth.stack, synth.stack.platform.table) } };
    for (const metric of ['ReadThrottleEvents', 'WriteThrottleEvents']) {
      const alarm = only(alarmsOn(template, 'AWS/DynamoDB', metric, table), metric);
      expect(alarm.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    }
  });

  test('one dashboard per deployment, named per stack and region, with the five sections in order', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as Resource[];
    expect(dashboard!.Properties.DashboardName).toEqual({
      'Fn::Join': ['', ['Scherp-Platform-Monitoring-BF44D9C1-', { Ref: 'AWS::Region' }]],
    });
    const text = JSON.stringify(dashboard!.Properties.DashboardBody);
    const positions = DASHBOARD_SECTIONS.map((s) => text.indexOf(`### ${s}`));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    // Each section's widgets, by title and the metrics they plot.
    for (const [title, metric] of [
      ['Events', 'EventsAccepted'],
      ['Repeats', 'MessagesRepeated'],
      ['API latency', 'IntegrationLatency'],
      ['Merges', 'ProfilesMerged'],
      ['Refused links', 'IdentifiersDropped'],
      ['Rules fired', 'ActionsPublished'],
      ['Skipped', 'ActionsSkippedNoConsent'],
      ['Errors', 'RuleErrors'],
      ['Bus entries', 'ActionsPublished'],
      ['Destination failures', 'RuleErrors'],
      ['Consumed capacity', 'ConsumedWriteCapacityUnits'],
    ]) {
      expect(text).toContain(`\\"title\\":\\"${title}\\"`);
      expect(text).toContain(`\\"${metric}\\"`);
    }
  });

  test('an output names the topic and the dashboard', () => {
    template.hasOutput('AlarmTopicArn', { Value: topicRef });
    template.hasOutput('DashboardName', Match.anyValue());
  });
});

describe('with destinations and the example log rule', () => {
  let synth: Synthesized;
  let template: Template;
  beforeAll(() => {
    synth = synthScherp({
      exampleLogTarget: true,
      destinations: {
        email: { from: 'Shop <service@shop.example>', templates: { 'cart-abandoned': 'cart-reminder' } },
        apiDestinations: [
          {
            id: 'Webhook',
            kind: 'webhook',
            endpoint: 'https://hooks.example.com/scherp',
            authorization: events.Authorization.basic('scherp', SecretValue.secretsManager('scherp/webhook-password-for-test')),
          },
        ],
      },
    });
    template = synth.template;
  });

  test("the destinations' dead-letter queue alarms on any message", () => {
    const dlq = synth.stack.platform.destinations!.deadLetterQueue;
    const alarm = only(
      alarmsOn(template, 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', {
        name: 'QueueName',
        value: { 'Fn::GetAtt': [logicalId(synth.stack, dlq), 'QueueName'] },
      }),
      'destinations DLQ',
    );
    expect(alarm.Properties.Threshold).toBe(0);
  });

  test('every rule on the bus alarms on failed invocations (custom-bus dimensions)', () => {
    const busName = { Ref: logicalId(synth.stack, synth.stack.platform.bus) };
    const rules = [...synth.stack.platform.destinations!.rules, synth.stack.platform.node.findChild('ActionsToLogsRule') as events.Rule];
    expect(rules.length).toBe(3);
    for (const rule of rules) {
      const alarm = only(
        alarmsOn(template, 'AWS/Events', 'FailedInvocations', { name: 'RuleName', value: { Ref: logicalId(synth.stack, rule) } }),
        rule.node.path,
      );
      expect(metricsOf(alarm)[0]!.Dimensions).toContainEqual({ Name: 'EventBusName', Value: busName });
      expect(alarm.Properties).toMatchObject({
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
  });

  test("the email destination's function gets its errors and throttles alarms too", () => {
    const fn = { name: 'FunctionName', value: { Ref: logicalId(synth.stack, synth.stack.platform.destinations!.emailFunction!) } };
    expect(alarmsOn(template, 'AWS/Lambda', 'Errors', fn)).toHaveLength(1);
    expect(alarmsOn(template, 'AWS/Lambda', 'Throttles', fn)).toHaveLength(1);
  });

  test('cdk-nag packs pass with the destinations and their alarms', () => {
    for (const pack of nagPacks())
      expect(
        pack.validateScope(synth.stack).violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`)),
      ).toEqual([]);
  });
});

describe('alarmTopic and thresholds given', () => {
  let template: Template;
  let stack: Stack;
  let platform: CustomerDataPlatform;
  beforeAll(() => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    stack = new Stack(app, 'Own');
    const topic = new sns.Topic(stack, 'MyAlarms');
    platform = new CustomerDataPlatform(stack, 'Cdp', {
      alarmTopic: topic,
      alarmThresholds: {
        deadLetterMessages: 9,
        streamIteratorAge: Duration.minutes(30),
        api5xxRate: 0.05,
        apiLatencyP99: Duration.millis(800),
        rejectedEventsPercent: 25,
        functionErrors: undefined,
      },
    });
    template = Template.fromStack(stack);
  });

  test('no topic or key is created; every alarm points at the given topic', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1); // the user's own
    template.resourceCountIs('AWS::KMS::Key', 0);
    expect(platform.monitoring.alarmTopicKey).toBeUndefined();
    const ref = { Ref: stack.getLogicalId(stack.node.findChild('MyAlarms').node.defaultChild as never) };
    const alarms = alarmsOf(template);
    expect(alarms.length).toBeGreaterThan(20);
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([ref]);
  });

  test('the thresholds are applied; unset ones keep their defaults', () => {
    const dlq = {
      name: 'QueueName',
      value: { 'Fn::GetAtt': [stack.getLogicalId(platform.deadLetterQueue.node.defaultChild as never), 'QueueName'] },
    };
    expect(only(alarmsOn(template, 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', dlq), 'DLQ').Properties.Threshold).toBe(9);
    expect(only(alarmsOn(template, 'AWS/Lambda', 'IteratorAge'), 'IteratorAge').Properties.Threshold).toBe(1_800_000);
    expect(only(alarmsOn(template, 'AWS/ApiGateway', '5xx'), '5xx').Properties.Threshold).toBe(0.05);
    expect(only(alarmsOn(template, 'AWS/ApiGateway', 'Latency'), 'Latency').Properties.Threshold).toBe(800);
    expect(only(alarmsOn(template, 'Scherp', 'EventsRejected'), 'rejected').Properties.Threshold).toBe(25);
    for (const a of alarmsOn(template, 'AWS/Lambda', 'Errors'))
      expect(a.Properties.Threshold).toBe(DEFAULT_ALARM_THRESHOLDS.functionErrors);
  });

  test('invalid thresholds fail the synth naming the prop', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const s = new Stack(app, 'Bad');
    expect(() => new CustomerDataPlatform(s, 'Cdp', { alarmThresholds: { api5xxRate: 5, rejectedEventsPercent: -1 } })).toThrow(
      /alarmThresholds\.api5xxRate must be a number from 0 to 1 \(got 5\)[\s\S]*alarmThresholds\.rejectedEventsPercent must be a number from 0 to 100 \(got -1\)/,
    );
  });
});

test('two platforms in one stack get alarms and dashboards of their own names', () => {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
  new CustomerDataPlatform(stack, 'Eu', { outputPrefix: 'Eu' });
  new CustomerDataPlatform(stack, 'Us', { outputPrefix: 'Us' });
  const template = Template.fromStack(stack);
  const names = alarmsOf(template).map((a) => a.Properties.AlarmName as string);
  expect(names.filter((n) => n.startsWith('S-Eu-Monitoring-')).length).toBe(names.length / 2);
  expect(new Set(names).size).toBe(names.length);
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard')).map((d) =>
    JSON.stringify(d.Properties.DashboardName),
  );
  expect(new Set(dashboards).size).toBe(2);
});

test('with a region and account (what `cdk synth` from the CLI gives the stack) the nag packs pass too', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ScherpStack(app, 'Scherp', { env: { region: 'eu-west-1', account: '123456789012' } });
  for (const pack of nagPacks())
    expect(
      pack.validateScope(stack).violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`)),
    ).toEqual([]);
  expect(JSON.stringify(Template.fromStack(stack).toJSON().Resources)).toContain('Scherp-Platform-Monitoring-');
});

/** `service/metric` pairs the handlers emit (`metrics.addMetric('Name', …)` in `lambdas/<service>/`; `shared/` counts for every service). */
function emittedMetrics(): Set<string> {
  const root = join(__dirname, '..', '..', 'lambdas');
  const pairs = new Set<string>();
  for (const entry of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    if (!entry.endsWith('.ts')) continue;
    const service = entry.split(/[\\/]/)[0]!;
    for (const line of readFileSync(join(root, entry), 'utf8')
      .split('\n')
      .filter((l) => l.includes('addMetric('))) {
      for (const [, name] of line.matchAll(/'([A-Za-z]+)'/g)) pairs.add(`${service === 'shared' ? '*' : service}/${name}`);
    }
  }
  return pairs;
}

test('every Scherp metric the dashboard and alarms read is one a handler emits under that service', () => {
  const template = synthScherp().template;
  const text = JSON.stringify(template.toJSON().Resources);
  const read = new Set<string>();
  // Dashboard bodies: ["Scherp","EventsAccepted","service","collect",…]
  for (const [, metric, service] of text.matchAll(/\\"Scherp\\",\\"([A-Za-z]+)\\",\\"service\\",\\"([A-Za-z]+)\\"/g))
    read.add(`${service}/${metric}`);
  // Alarms: MetricStat with namespace Scherp.
  for (const alarm of alarmsOf(template)) {
    for (const m of metricsOf(alarm).filter((x) => x.Namespace === 'Scherp'))
      read.add(`${m.Dimensions!.find((d) => d.Name === 'service')!.Value}/${m.MetricName}`);
  }
  expect(read.size).toBeGreaterThan(15);
  const emitted = emittedMetrics();
  const missing = [...read].filter((pair) => !emitted.has(pair) && !emitted.has(`*/${pair.split('/')[1]}`));
  expect(missing).toEqual([]);
});
