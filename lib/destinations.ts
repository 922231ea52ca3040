/**
 * Where Scherp's bus events go: an SES v2 email sender, EventBridge API destinations (Meta
 * Conversions API, Google Ads, any webhook; secrets held by their connections) and any other
 * EventBridge target. Every target has a retry policy and the shared destinations DLQ.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../lambdas/shared/env';
import { deadLetterQueue } from './queues';
import { createScherpFunction, DEFAULT_FUNCTION_SIZING, type ScherpLogLevel } from './scherp-function';

/** Which bus events a destination receives. */
export interface DestinationFilter {
  /** @default ['Action Triggered'] */
  readonly detailTypes?: string[];
  /** Only these `detail.action` names (Action Triggered). @default - every action */
  readonly actions?: string[];
  /** Only these audience ids (Audience Entered / Exited). @default - every audience */
  readonly audiences?: string[];
}

export interface EmailDestinationProps {
  /** Verified SES sender identity, e.g. `Shop <service@shop.example>`. */
  readonly from: string;
  /** Action name → SES template name; the action's `data` is the template data. */
  readonly templates: Record<string, string>;
  readonly configurationSetName?: string;
}

export type ApiDestinationKind = 'meta-capi' | 'google-ads' | 'webhook';

export interface ApiDestinationProps {
  /** Construct id and name suffix. */
  readonly id: string;
  /**
   * `meta-capi`: posts a Conversions API event (hashed email and phone, event_time); `webhook`:
   * posts the whole EventBridge event; `google-ads`: needs `input` (the request body of your
   * conversion upload).
   */
  readonly kind: ApiDestinationKind;
  /** HTTPS endpoint, e.g. `https://graph.facebook.com/v21.0/<PIXEL_ID>/events`. */
  readonly endpoint: string;
  /** How the connection authenticates; its secrets live in the connection's own secret. */
  readonly authorization: events.Authorization;
  /** Extra parameters the connection adds to every call (e.g. Google's `developer-token` header). */
  readonly headerParameters?: Record<string, events.HttpParameter>;
  readonly queryStringParameters?: Record<string, events.HttpParameter>;
  readonly filter?: DestinationFilter;
  /** @default 10 */
  readonly rateLimitPerSecond?: number;
  /** Overrides the kind's request body. */
  readonly input?: events.RuleTargetInput;
  /** Meta: the `event_name` sent. @default the action name */
  readonly metaEventName?: string;
}

export interface TargetDestinationProps {
  readonly id: string;
  /** Any EventBridge target (SQS, Step Functions, Lambda, Firehose, …). Give it the DLQ and retry policy you want. */
  readonly target: events.IRuleTarget;
  readonly filter?: DestinationFilter;
}

export interface DestinationsProps {
  readonly email?: EmailDestinationProps;
  readonly apiDestinations?: ApiDestinationProps[];
  readonly targets?: TargetDestinationProps[];
  /** Retries of a failed delivery before it goes to the DLQ. @default 185 (EventBridge maximum) */
  readonly retryAttempts?: number;
  /** @default Duration.hours(24) */
  readonly maxEventAge?: Duration;
}

export interface ScherpDestinationsProps extends DestinationsProps {
  readonly bus: events.IEventBus;
  readonly source: string;
  readonly logRetention: logs.RetentionDays;
  readonly logLevel: ScherpLogLevel;
}

function pattern(source: string, filter: DestinationFilter | undefined, defaults: { action?: boolean } = {}): events.EventPattern {
  const detail: Record<string, unknown> = {};
  if (filter?.actions) detail.action = filter.actions;
  if (filter?.audiences) detail.audienceId = filter.audiences;
  if (defaults.action) detail.target = ['email'];
  return {
    source: [source],
    detailType: filter?.detailTypes ?? ['Action Triggered'],
    ...(Object.keys(detail).length > 0 ? { detail } : {}),
  };
}

/** Meta Conversions API body for one event (https://developers.facebook.com/docs/marketing-api/conversions-api). */
function metaInput(eventName: string | undefined): events.RuleTargetInput {
  return events.RuleTargetInput.fromObject({
    data: [
      {
        event_name: eventName ?? events.EventField.fromPath('$.detail.action'),
        event_time: events.EventField.fromPath('$.detail.firedAtUnix'),
        event_id: events.EventField.fromPath('$.detail.dedupeId'),
        action_source: 'system_generated',
        user_data: {
          em: [events.EventField.fromPath('$.detail.hashed.emailSha256')],
          ph: [events.EventField.fromPath('$.detail.hashed.phoneDigitsSha256')],
          external_id: [events.EventField.fromPath('$.detail.profileId')],
        },
        custom_data: events.EventField.fromPath('$.detail.data'),
      },
    ],
  });
}

export class ScherpDestinations extends Construct {
  /** Where every destination's undeliverable events go. */
  public readonly deadLetterQueue: sqs.Queue;
  public readonly emailFunction?: import('aws-cdk-lib/aws-lambda-nodejs').NodejsFunction;
  public readonly rules: events.Rule[] = [];

  constructor(scope: Construct, id: string, props: ScherpDestinationsProps) {
    super(scope, id);
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue', {
      receivesFrom: 'This queue is the dead-letter queue of every destination target; it has no further queue behind it.',
    });
    const retry = {
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: props.retryAttempts ?? 185,
      maxEventAge: props.maxEventAge ?? Duration.hours(24),
    };

    if (props.email) {
      const fn = createScherpFunction(this, 'Email', {
        name: 'email',
        sizing: DEFAULT_FUNCTION_SIZING.profile,
        logRetention: props.logRetention,
        logLevel: props.logLevel,
        environment: {
          [ENV.EMAIL_FROM]: props.email.from,
          [ENV.EMAIL_TEMPLATES]: JSON.stringify(props.email.templates),
          ...(props.email.configurationSetName ? { [ENV.EMAIL_CONFIGURATION_SET]: props.email.configurationSetName } : {}),
        },
        invocation: {
          asyncFailures: 'Invoked by an EventBridge rule whose target has a retry policy and the destinations dead-letter queue.',
        },
      });
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['ses:SendEmail'],
          resources: ['*'],
          conditions: { StringEquals: { 'ses:FromAddress': fromAddress(props.email.from) } },
        }),
      );
      Validations.of(fn.role!).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'SES identities and templates are owned outside the stack; the permission is limited to ses:SendEmail with the configured From address as a condition.',
      });
      this.addRule(
        'Email',
        pattern(props.source, undefined, { action: true }),
        new targets.LambdaFunction(fn, retry),
        props.bus,
        'Action Triggered with target email → SES templated email',
      );
      this.emailFunction = fn;
    }

    for (const d of props.apiDestinations ?? []) {
      if (d.kind === 'google-ads' && !d.input)
        throw new Error(`apiDestinations ${d.id}: kind google-ads needs input (the conversion upload body)`);
      if (!d.endpoint.startsWith('https://')) throw new Error(`apiDestinations ${d.id}: endpoint must be https`);
      const connection = new events.Connection(this, `${d.id}Connection`, {
        description: `Scherp ${d.kind} ${d.id}`,
        authorization: d.authorization,
        headerParameters: d.headerParameters,
        queryStringParameters: d.queryStringParameters,
      });
      const destination = new events.ApiDestination(this, `${d.id}Destination`, {
        connection,
        endpoint: d.endpoint,
        httpMethod: events.HttpMethod.POST,
        rateLimitPerSecond: d.rateLimitPerSecond ?? 10,
      });
      const input = d.input ?? (d.kind === 'meta-capi' ? metaInput(d.metaEventName) : undefined);
      this.addRule(
        d.id,
        pattern(props.source, d.filter),
        new targets.ApiDestination(destination, { ...retry, event: input }),
        props.bus,
        `${d.kind} ${d.id}`,
      );
    }

    for (const t of props.targets ?? []) {
      this.addRule(t.id, pattern(props.source, t.filter), t.target, props.bus, `target ${t.id}`);
    }
  }

  private addRule(
    id: string,
    eventPattern: events.EventPattern,
    target: events.IRuleTarget,
    bus: events.IEventBus,
    description: string,
  ): void {
    this.rules.push(
      new events.Rule(this, `${id}Rule`, {
        eventBus: bus,
        description: `Scherp destination: ${description}`,
        eventPattern,
        targets: [target],
      }),
    );
  }
}

/** The address inside `Name <address>`. */
function fromAddress(from: string): string {
  return /<([^>]+)>/.exec(from)?.[1] ?? from.trim();
}
