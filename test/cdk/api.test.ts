import type { Template } from 'aws-cdk-lib/assertions';
import { synthScherp, type Synthesized } from './synth';

let synth: Synthesized;
let template: Template;
beforeAll(() => {
  synth = synthScherp();
  template = synth.template;
});

describe('HTTP API', () => {
  test('routes are exactly the collect, profile, context, admin, rules, insights, identity and console endpoints, with Lambda doing auth', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route'));
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual(
      [
        'GET /v1/profiles/{id}',
        'GET /v1/profiles/{id}/events',
        // Explain (profile, read key); split, release and lifting a suppression (identity, admin key).
        'GET /v1/profiles/{id}/identity',
        'POST /v1/profiles/{id}/split',
        'POST /v1/profiles/{id}/release',
        'DELETE /v1/suppressions/{id}',
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
        'GET /v1/health',
        'GET /v1/audiences',
        'GET /v1/audiences/{id}',
        'GET /v1/audiences/{id}/members',
        'GET /v1/audiences/{id}/export',
        'POST /v1/audiences/{id}/export',
        'GET /v1/jobs',
        'GET /v1/jobs/{id}',
        'GET /v1/jobs/{id}/files/{n}',
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
        // The console's page and assets (same origin as the API).
        'GET /console',
        'GET /console/{proxy+}',
      ].sort(),
    );
    for (const r of routes) expect(r.Properties.AuthorizationType).toBe('NONE');
  });

  test('nine payload 2.0 Lambda proxy integrations: collect, profile, context, admin, rules, import, insights, identity and console', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', 9);
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
