import { Duration, SecretValue } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { nagPacks } from '../../lib/nag-packs';
import { synthScherp, type Synthesized } from './synth';

let synth: Synthesized;
let template: Template;
beforeAll(() => {
  synth = synthScherp({
    destinations: {
      email: {
        from: 'Shop <service@shop.example>',
        templates: { 'complaint-service-email': 'complaint-follow-up', 'cart-abandoned': 'cart-reminder' },
      },
      apiDestinations: [
        {
          id: 'Meta',
          kind: 'meta-capi',
          endpoint: 'https://graph.facebook.com/v21.0/1234567890/events',
          authorization: events.Authorization.apiKey('Authorization', SecretValue.secretsManager('scherp/Bearer placeholder-for-test')),
          filter: { detailTypes: ['Action Triggered'], actions: ['High Value Order'] },
        },
        {
          id: 'GoogleAds',
          kind: 'google-ads',
          endpoint: 'https://googleads.googleapis.com/v17/customers/1234567890:uploadClickConversions',
          authorization: events.Authorization.oauth({
            authorizationEndpoint: 'https://oauth2.googleapis.com/token',
            clientId: 'client-id',
            clientSecret: SecretValue.secretsManager('scherp/client-secret-for-test'),
            httpMethod: events.HttpMethod.POST,
            bodyParameters: {
              grant_type: events.HttpParameter.fromString('refresh_token'),
              refresh_token: events.HttpParameter.fromSecret(SecretValue.secretsManager('scherp/refresh-for-test')),
            },
          }),
          headerParameters: { 'developer-token': events.HttpParameter.fromSecret(SecretValue.secretsManager('scherp/dev-token-for-test')) },
          input: events.RuleTargetInput.fromObject({
            conversions: [{ userIdentifiers: [{ hashedEmail: events.EventField.fromPath('$.detail.hashed.emailSha256') }] }],
            partialFailure: true,
          }),
          filter: { detailTypes: ['Audience Entered'], audiences: ['high-value'] },
        },
        {
          id: 'Webhook',
          kind: 'webhook',
          endpoint: 'https://hooks.example.com/scherp',
          authorization: events.Authorization.basic('scherp', SecretValue.secretsManager('scherp/webhook-password-for-test')),
          filter: { detailTypes: ['Action Triggered', 'Audience Entered', 'Audience Exited'] },
        },
      ],
    },
  });
  template = synth.template;
});

test('cdk-nag stays clean with every destination configured', () => {
  for (const pack of nagPacks()) {
    const report = pack.validateScope(synth.stack);
    expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`))).toEqual([]);
  }
});

test('email: SES v2 sender function with a template per action, SendEmail limited to the From address', () => {
  const fn = synth.stack.platform.destinations!.emailFunction!;
  const id = synth.stack.getLogicalId(fn.node.defaultChild as never);
  const props = template.toJSON().Resources[id].Properties;
  expect(props.Environment.Variables).toMatchObject({ EMAIL_FROM: 'Shop <service@shop.example>', POWERTOOLS_SERVICE_NAME: 'email' });
  expect(JSON.parse(props.Environment.Variables.EMAIL_TEMPLATES)).toEqual({
    'complaint-service-email': 'complaint-follow-up',
    'cart-abandoned': 'cart-reminder',
  });
  template.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({ Action: 'ses:SendEmail', Condition: { StringEquals: { 'ses:FromAddress': 'service@shop.example' } } }),
      ]),
    },
  });
  template.hasResourceProperties('AWS::Events::Rule', {
    EventPattern: { source: ['scherp'], 'detail-type': ['Action Triggered'], detail: { target: ['email'] } },
    Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] } })],
  });
});

test('API destinations: a connection each (secrets held by it), POST, and the filters', () => {
  template.resourceCountIs('AWS::Events::Connection', 3);
  template.resourceCountIs('AWS::Events::ApiDestination', 3);
  template.hasResourceProperties('AWS::Events::ApiDestination', {
    HttpMethod: 'POST',
    InvocationEndpoint: 'https://graph.facebook.com/v21.0/1234567890/events',
    InvocationRateLimitPerSecond: 10,
  });
  template.hasResourceProperties('AWS::Events::Connection', { AuthorizationType: 'OAUTH_CLIENT_CREDENTIALS' });
  template.hasResourceProperties('AWS::Events::Rule', {
    EventPattern: { source: ['scherp'], 'detail-type': ['Action Triggered'], detail: { action: ['High Value Order'] } },
  });
  template.hasResourceProperties('AWS::Events::Rule', {
    EventPattern: { source: ['scherp'], 'detail-type': ['Audience Entered'], detail: { audienceId: ['high-value'] } },
  });
  // Meta gets a Conversions API body built from the contract's fields.
  const meta = Object.values(
    template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { detail: { action: ['High Value Order'] } } } }),
  )[0] as { Properties: { Targets: { InputTransformer: { InputPathsMap: Record<string, string> } }[] } };
  expect(Object.values(meta.Properties.Targets[0]!.InputTransformer.InputPathsMap)).toEqual(
    expect.arrayContaining(['$.detail.firedAtUnix', '$.detail.hashed.emailSha256', '$.detail.dedupeId']),
  );
});

test('every destination target retries and dead-letters to the destinations DLQ', () => {
  const dlq = synth.stack.platform.destinations!.deadLetterQueue;
  const dlqId = synth.stack.getLogicalId(dlq.node.defaultChild as never);
  const rules = synth.stack.platform.destinations!.rules;
  expect(rules).toHaveLength(4);
  for (const rule of rules) {
    const props = template.toJSON().Resources[synth.stack.getLogicalId(rule.node.defaultChild as never)].Properties;
    expect(props.Targets[0]).toMatchObject({
      RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
    });
  }
});

test('any other EventBridge target, and bad destination props fail at synth', () => {
  const s = synthScherp(
    {
      destinations: {
        maxEventAge: Duration.hours(2),
        targets: [
          {
            id: 'Crm',
            target: new targets.SqsQueue(
              sqs.Queue.fromQueueArn(new (require('aws-cdk-lib').Stack)(), 'Q', 'arn:aws:sqs:eu-west-1:123456789012:crm'),
            ),
            filter: { actions: ['complaint-service-email'] },
          },
        ],
      },
    },
    { nag: false },
  );
  s.template.hasResourceProperties('AWS::Events::Rule', {
    EventPattern: { detail: { action: ['complaint-service-email'] } },
    Targets: [Match.objectLike({ Arn: 'arn:aws:sqs:eu-west-1:123456789012:crm' })],
  });
  expect(() =>
    synthScherp(
      {
        destinations: {
          apiDestinations: [
            {
              id: 'G',
              kind: 'google-ads',
              endpoint: 'https://x.example',
              authorization: events.Authorization.apiKey('k', SecretValue.secretsManager('scherp/v')),
            },
          ],
        },
      },
      { nag: false },
    ),
  ).toThrow(/google-ads needs input/);
});
