import { Aws, Duration, Names, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  DefaultDashboardFactory,
  MonitoringFacade,
  SnsAlarmActionStrategy,
  type CustomMetric,
  type CustomMetricGroup,
} from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import type { CustomerDataPlatform } from './customer-data-platform';
import { METRICS_NAMESPACE } from './scherp-function';

/**
 * Alarm thresholds of {@link ScherpMonitoring}. Every value is optional; the defaults below are
 * chosen so a healthy deployment never alarms and a broken one alarms within minutes.
 * Alarms evaluate 5-minute periods.
 */
export interface ScherpAlarmThresholds {
  /**
   * Messages visible in a dead-letter queue (ingest, stream failures, delayed actions, file
   * import, destinations) above which its alarm fires.
   * @default 0 (any message)
   */
  readonly deadLetterMessages?: number;
  /**
   * Oldest record of `evaluate`'s DynamoDB stream mapping (IteratorAge, maximum) above which
   * the stream is considered stuck.
   * @default Duration.minutes(5)
   */
  readonly streamIteratorAge?: Duration;
  /**
   * Errors (invocations that threw or timed out) of one function in 5 minutes above which its
   * alarm fires.
   * @default 0 (any error)
   */
  readonly functionErrors?: number;
  /**
   * Throttled invocations of one function in 5 minutes above which its alarm fires.
   * @default 0 (any throttle)
   */
  readonly functionThrottles?: number;
  /**
   * Share of API requests answered with a 5xx (0 to 1), three 5-minute periods in a row.
   * @default 0.01 (1 %)
   */
  readonly api5xxRate?: number;
  /**
   * p99 latency of the HTTP API, three 5-minute periods in a row.
   * @default Duration.seconds(2)
   */
  readonly apiLatencyP99?: Duration;
  /**
   * Percentage (0 to 100) of events collect rejected (`EventsRejected` of
   * `EventsAccepted + EventsRejected`), three 5-minute periods in a row.
   * @default 10
   */
  readonly rejectedEventsPercent?: number;
  /**
   * Throttled DynamoDB requests (reads or writes, each its own alarm) in 5 minutes.
   * @default 0 (any throttle)
   */
  readonly dynamoThrottledRequests?: number;
  /**
   * Failed invocations (permanently failed deliveries) of one EventBridge rule in 5 minutes.
   * @default 0 (any failure)
   */
  readonly eventBridgeFailedInvocations?: number;
}

/** Properties of {@link ScherpMonitoring}. */
export interface ScherpMonitoringProps {
  /**
   * Where every alarm sends its ALARM and OK notifications.
   * @default - a new topic, encrypted with a new customer-managed KMS key (CloudWatch may use it), SSL-only
   */
  readonly alarmTopic?: sns.ITopic;
  /** Thresholds; unspecified values keep their defaults. */
  readonly thresholds?: ScherpAlarmThresholds;
  /** Every handler: each gets an errors and a throttles alarm, and a section of the dashboard. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** The function with the DynamoDB stream mapping (iterator-age alarm). */
  readonly streamConsumer: lambda.IFunction;
  /** Every dead-letter queue, by a name for the alarm (letters and digits). */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  /** The table (throttled requests, consumed capacity). */
  readonly table: dynamodb.ITable;
  readonly httpApi: apigwv2.IHttpApi;
  /** The bus actions are put on; the dimension of its rules' metrics. */
  readonly bus: events.IEventBus;
  /** Rules on the bus whose failed invocations alarm (destinations, the example rule), by a name for the alarm. */
  readonly busRules: Readonly<Record<string, events.IRule>>;
}

/** Defaults of {@link ScherpAlarmThresholds}. */
export const DEFAULT_ALARM_THRESHOLDS: Required<ScherpAlarmThresholds> = {
  deadLetterMessages: 0,
  streamIteratorAge: Duration.minutes(5),
  functionErrors: 0,
  functionThrottles: 0,
  api5xxRate: 0.01,
  apiLatencyP99: Duration.seconds(2),
  rejectedEventsPercent: 10,
  dynamoThrottledRequests: 0,
  eventBridgeFailedInvocations: 0,
};

/** Sustained conditions (rates, latency) alarm after this many 5-minute periods in a row. */
const SUSTAINED = { evaluationPeriods: 3, datapointsToAlarm: 3 } as const;

/** The dashboard's sections, in order (README "Operations", docs/operations.md). */
export const DASHBOARD_SECTIONS = ['Ingest', 'Identity', 'Evaluation', 'Actions', 'Cost drivers'] as const;

/**
 * Alarms and a dashboard for one Scherp deployment, built with `cdk-monitoring-constructs`:
 * an alarm on every dead-letter queue, the stream's iterator age, each function's errors and
 * throttles, the API's 5xx rate and p99 latency, collect's rejected-events rate, DynamoDB
 * throttles and each bus rule's failed invocations, all sending to one SNS topic; and one
 * dashboard with the sections ingest, identity, evaluation, actions and cost drivers, followed by
 * a section per resource. docs/operations.md has a runbook per alarm.
 */
export class ScherpMonitoring extends Construct {
  /** Where the alarms notify (the given `alarmTopic` or the created topic). */
  public readonly alarmTopic: sns.ITopic;
  /** The key of the created topic (none when `alarmTopic` is given). */
  public readonly alarmTopicKey?: kms.Key;
  /** Every alarm created. */
  public readonly alarms: cloudwatch.AlarmBase[];
  /** The deployment's dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** The underlying facade, to add your own monitoring to the same dashboard and topic. */
  public readonly facade: MonitoringFacade;

  constructor(scope: Construct, id: string, props: ScherpMonitoringProps) {
    super(scope, id);
    const given = Object.fromEntries(Object.entries(props.thresholds ?? {}).filter(([, v]) => v !== undefined)) as ScherpAlarmThresholds;
    const t: Required<ScherpAlarmThresholds> = { ...DEFAULT_ALARM_THRESHOLDS, ...given };
    validateThresholds(t);
    for (const name of [...Object.keys(props.deadLetterQueues), ...Object.keys(props.busRules), ...Object.keys(props.functions)]) {
      if (!/^[A-Za-z0-9]+$/.test(name))
        throw new Error(`ScherpMonitoring: "${name}" must be letters and digits only (it is part of alarm names)`);
    }

    if (props.alarmTopic) {
      this.alarmTopic = props.alarmTopic;
    } else {
      ({ topic: this.alarmTopic, key: this.alarmTopicKey } = this.createTopic());
    }

    // Alarm and dashboard names are account-wide: the construct path (stack name included) and
    // the region keep two deployments apart.
    const name = Names.uniqueResourceName(this, { separator: '-', maxLength: 80 });
    this.facade = new MonitoringFacade(this, 'Facade', {
      alarmFactoryDefaults: {
        alarmNamePrefix: name,
        actionsEnabled: true,
        action: new SnsAlarmActionStrategy({ onAlarmTopic: this.alarmTopic, onOkTopic: this.alarmTopic }),
        // A dead letter, an error or a throttle is worth a notification the first time.
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
      },
      metricFactoryDefaults: { period: Duration.minutes(5) },
      dashboardFactory: new DefaultDashboardFactory(this, 'Dashboards', {
        dashboardNamePrefix: `${name}-${Aws.REGION}`,
        createDashboard: true,
        createSummaryDashboard: false,
        createAlarmDashboard: false,
      }),
    });

    this.addOverviewSections(props);
    this.addAlarms(props, t);

    this.alarms = this.facade.createdAlarms().map((a) => a.alarm);
    this.dashboard = this.facade.createdDashboard()!;
  }

  /** The SNS topic the alarms notify: KMS-encrypted with a key CloudWatch may use, SSL-only. */
  private createTopic(): { topic: sns.Topic; key: kms.Key } {
    const account = Stack.of(this).account;
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Scherp alarm topic (SNS server-side encryption; CloudWatch alarms publish with it)',
      enableKeyRotation: true,
    });
    // The AWS-managed alias/aws/sns key does not let CloudWatch publish to an encrypted topic.
    const cloudwatchPrincipal = new iam.ServicePrincipal('cloudwatch.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': account } },
    });
    key.grant(cloudwatchPrincipal, 'kms:Decrypt', 'kms:GenerateDataKey*');
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Scherp alarms',
      masterKey: key,
      enforceSSL: true,
    });
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        actions: ['sns:Publish'],
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        resources: [topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': account } },
      }),
    );
    return { topic, key };
  }

  /** Ingest, identity, evaluation, actions and cost drivers: Scherp's own metrics first. */
  private addOverviewSections(props: ScherpMonitoringProps): void {
    const scherp = (service: string, metricName: string, label: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service },
        statistic: 'Sum',
        label,
        period: Duration.minutes(5),
      });
    const api = (metricName: string, statistic: string, label: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: props.httpApi.apiId, Stage: '$default' },
        statistic,
        label,
        period: Duration.minutes(5),
      });
    const table = (metricName: string, label: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: 'AWS/DynamoDB',
        metricName,
        dimensionsMap: { TableName: props.table.tableName },
        statistic: 'Sum',
        label,
        period: Duration.minutes(5),
      });
    const group = (title: string, metrics: CustomMetric[], extra: Partial<CustomMetricGroup> = {}): CustomMetricGroup => ({
      title,
      metrics,
      ...extra,
    });
    const failedInvocations = Object.entries(props.busRules).map(([ruleName, rule]) => this.failedInvocations(props.bus, rule, ruleName));

    const sections: Record<(typeof DASHBOARD_SECTIONS)[number], CustomMetricGroup[]> = {
      Ingest: [
        group('Events', [
          scherp('collect', 'EventsAccepted', 'Accepted'),
          scherp('collect', 'EventsRejected', 'Rejected'),
          scherp('stitch', 'EventsStored', 'Stored'),
        ]),
        group('Repeats', [
          scherp('stitch', 'MessagesRepeated', 'Repeated messages'),
          scherp('stitch', 'EventsDuplicate', 'Duplicate events'),
          scherp('collect', 'RequestsThrottled', 'Throttled by source limit'),
        ]),
        group('API latency', [
          api('Latency', 'p50', 'p50'),
          api('Latency', 'p99', 'p99'),
          api('IntegrationLatency', 'p99', 'Integration p99'),
        ]),
      ],
      Identity: [
        group('Merges', [scherp('stitch', 'ProfilesMerged', 'Profiles merged')]),
        group('Refused links', [
          scherp('stitch', 'IdentifiersDropped', 'Identifiers refused (merge protection)'),
          scherp('stitch', 'EventsWithoutIdentifier', 'Events without identifier'),
          scherp('stitch', 'EventsSuppressed', 'Events of erased people'),
        ]),
      ],
      Evaluation: [
        group('Rules fired', [scherp('evaluate', 'ActionsPublished', 'Actions published')]),
        group('Skipped', [
          scherp('evaluate', 'ActionsSkippedNoConsent', 'Skipped for consent'),
          scherp('evaluate', 'ActionsSkipped', 'Skipped (other)'),
        ]),
        group('Errors', [
          scherp('evaluate', 'RuleErrors', 'Rule errors'),
          scherp('stitch', 'StitchFailures', 'Stitch failures (retried)'),
          scherp('stitch', 'EventsDeadLettered', 'Dead-lettered'),
        ]),
      ],
      Actions: [
        group('Bus entries', [scherp('evaluate', 'ActionsPublished', 'Entries put by evaluate')]),
        group(
          'Destination failures',
          failedInvocations.length > 0 ? failedInvocations : [scherp('evaluate', 'RuleErrors', 'Rule errors (no destination rules)')],
        ),
      ],
      'Cost drivers': [
        group('Consumed capacity', [table('ConsumedReadCapacityUnits', 'Read units'), table('ConsumedWriteCapacityUnits', 'Write units')]),
        group(
          'Invocations',
          Object.entries(props.functions).map(([fnName, fn]) => fn.metricInvocations({ label: fnName, period: Duration.minutes(5) })),
        ),
      ],
    };
    this.facade.addLargeHeader('Scherp');
    for (const title of DASHBOARD_SECTIONS) {
      this.facade.monitorCustom({ alarmFriendlyName: title.replace(/\s/g, ''), humanReadableName: title, metricGroups: sections[title] });
    }
  }

  /** The alarms, each with its resource's section on the dashboard. */
  private addAlarms(props: ScherpMonitoringProps, t: Required<ScherpAlarmThresholds>): void {
    this.facade.addLargeHeader('Alarms and resources');

    // Dead-letter queues: any visible message.
    for (const [queueName, queue] of Object.entries(props.deadLetterQueues)) {
      this.facade.monitorSqsQueue({
        queue,
        alarmFriendlyName: `${queueName}DeadLetters`,
        humanReadableName: `Dead letters: ${queueName}`,
        // An idle queue may stop reporting: no data is not a dead letter.
        addQueueMaxSizeAlarm: {
          Critical: { maxMessageCount: t.deadLetterMessages, treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING },
        },
      });
    }

    // Functions: errors and throttles of each; the stream consumer's iterator age.
    for (const [fnName, fn] of Object.entries(props.functions)) {
      const isStream = fn === props.streamConsumer;
      this.facade.monitorLambdaFunction({
        lambdaFunction: fn,
        alarmFriendlyName: fnName,
        humanReadableName: `Function ${fnName}`,
        ...(isStream
          ? { isIterator: true, addMaxIteratorAgeAlarm: { Critical: { maxAgeInMillis: t.streamIteratorAge.toMilliseconds() } } }
          : {}),
        addFaultCountAlarm: { Critical: { maxErrorCount: t.functionErrors } },
        addThrottlesCountAlarm: { Critical: { maxErrorCount: t.functionThrottles } },
      });
    }

    // API: 5xx rate and p99 latency, sustained.
    this.facade.monitorApiGatewayV2HttpApi({
      api: props.httpApi,
      apiStage: '$default',
      alarmFriendlyName: 'Api',
      humanReadableName: 'HTTP API',
      add5xxRateAlarm: { Critical: { maxErrorRate: t.api5xxRate, ...SUSTAINED } },
      addLatencyP99Alarm: { Critical: { maxLatency: t.apiLatencyP99, ...SUSTAINED } },
    });

    // collect's rejected share, sustained (no traffic: no data, not breaching).
    this.facade.monitorCustom({
      alarmFriendlyName: 'Collect',
      humanReadableName: 'Rejected events',
      metricGroups: [
        {
          title: 'Rejected events (% of received)',
          metrics: [
            {
              metric: rejectedPercent(),
              alarmFriendlyName: 'RejectedEvents',
              addAlarm: {
                Critical: {
                  threshold: t.rejectedEventsPercent,
                  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                  treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING,
                  ...SUSTAINED,
                },
              },
            },
          ],
        },
      ],
    });

    // DynamoDB: throttled reads and writes.
    this.facade.monitorDynamoTable({
      table: props.table,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      alarmFriendlyName: 'Table',
      humanReadableName: 'DynamoDB table',
      addReadThrottledEventsCountAlarm: { Critical: { maxThrottledEventsThreshold: t.dynamoThrottledRequests } },
      addWriteThrottledEventsCountAlarm: { Critical: { maxThrottledEventsThreshold: t.dynamoThrottledRequests } },
    });

    // EventBridge: permanently failed deliveries of each rule (the metric exists only when non-zero).
    const ruleEntries = Object.entries(props.busRules);
    if (ruleEntries.length > 0) {
      this.facade.monitorCustom({
        alarmFriendlyName: 'Bus',
        humanReadableName: 'EventBridge rules',
        metricGroups: [
          {
            title: 'Failed invocations',
            metrics: ruleEntries.map(([ruleName, rule]) => ({
              metric: this.failedInvocations(props.bus, rule, ruleName),
              alarmFriendlyName: `${ruleName}FailedInvocations`,
              addAlarm: {
                Critical: {
                  threshold: t.eventBridgeFailedInvocations,
                  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                  treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING,
                },
              },
            })),
          },
        ],
      });
    }
  }

  /** `AWS/Events FailedInvocations` of a rule on a custom bus (dimensions EventBusName and RuleName). */
  private failedInvocations(bus: events.IEventBus, rule: events.IRule, label: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/Events',
      metricName: 'FailedInvocations',
      dimensionsMap: { EventBusName: bus.eventBusName, RuleName: rule.ruleName },
      statistic: 'Sum',
      label,
      period: Duration.minutes(5),
    });
  }
}

/** `100 × EventsRejected / (EventsAccepted + EventsRejected)` of collect, per 5 minutes. */
function rejectedPercent(): cloudwatch.MathExpression {
  const m = (metricName: string) =>
    new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: 'collect' },
      statistic: 'Sum',
      period: Duration.minutes(5),
    });
  return new cloudwatch.MathExpression({
    expression: '100 * FILL(rejected, 0) / (FILL(accepted, 0) + FILL(rejected, 0))',
    usingMetrics: { accepted: m('EventsAccepted'), rejected: m('EventsRejected') },
    label: 'Rejected %',
    period: Duration.minutes(5),
  });
}

function validateThresholds(t: Required<ScherpAlarmThresholds>): void {
  const errors: string[] = [];
  const nonNegative = (name: keyof ScherpAlarmThresholds, v: number, max = Infinity) => {
    if (!Token.isUnresolved(v) && !(Number.isFinite(v) && v >= 0 && v <= max))
      errors.push(`alarmThresholds.${name} must be a number from 0${max === Infinity ? '' : ` to ${max}`} (got ${v})`);
  };
  nonNegative('deadLetterMessages', t.deadLetterMessages);
  nonNegative('functionErrors', t.functionErrors);
  nonNegative('functionThrottles', t.functionThrottles);
  nonNegative('api5xxRate', t.api5xxRate, 1);
  nonNegative('rejectedEventsPercent', t.rejectedEventsPercent, 100);
  nonNegative('dynamoThrottledRequests', t.dynamoThrottledRequests);
  nonNegative('eventBridgeFailedInvocations', t.eventBridgeFailedInvocations);
  if (t.streamIteratorAge.toMilliseconds() < 1000) errors.push('alarmThresholds.streamIteratorAge must be at least 1 second');
  if (t.apiLatencyP99.toMilliseconds() < 1) errors.push('alarmThresholds.apiLatencyP99 must be at least 1 millisecond');
  if (errors.length > 0) throw new Error(`Invalid ScherpMonitoring props:\n- ${errors.join('\n- ')}`);
}

/**
 * What {@link ScherpMonitoring} watches of a platform: every function (the construct's function
 * map, plus the email destination's), every dead-letter queue, the table, the API, the bus and
 * its rules. Called once the platform has created them all.
 */
export function monitoredResources(platform: CustomerDataPlatform): Omit<ScherpMonitoringProps, 'alarmTopic' | 'thresholds'> {
  const { destinations } = platform;
  const functions: Record<string, lambda.IFunction> = { ...platform.functions };
  if (destinations?.emailFunction) functions.email = destinations.emailFunction;
  const deadLetterQueues: Record<string, sqs.IQueue> = {
    Ingest: platform.deadLetterQueue,
    StreamFailures: platform.streamFailureQueue,
    DelayedActions: platform.delayedActionsDeadLetterQueue,
    FileImport: platform.fileImport.deadLetterQueue,
  };
  if (destinations) deadLetterQueues.Destinations = destinations.deadLetterQueue;
  const busRules: Record<string, events.IRule> = {};
  for (const rule of destinations?.rules ?? []) busRules[rule.node.id.replace(/[^A-Za-z0-9]/g, '')] = rule;
  const exampleRule = platform.node.tryFindChild('ActionsToLogsRule') as events.IRule | undefined;
  if (exampleRule) busRules.ActionsToLogsRule = exampleRule;
  return {
    functions,
    streamConsumer: platform.functions.evaluate,
    deadLetterQueues,
    table: platform.table,
    httpApi: platform.httpApi,
    bus: platform.bus,
    busRules,
  };
}
