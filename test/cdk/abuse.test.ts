/**
 * The stage and functions against abuse of the public write key (issue 18 items 9 and 10):
 * per-route throttling that keeps the admin and profile routes apart from the ingest routes,
 * per-source limits in the functions, reserved concurrency, the user-token secret.
 */
import { Duration } from 'aws-cdk-lib';
import { API_ROUTES, CONSOLE_ROUTES } from '../../lambdas/routes';
import { ENV } from '../../lambdas/shared/env';
import { synthScherp } from './synth';

const stageOf = (template: ReturnType<typeof synthScherp>['template']) =>
  Object.entries(template.findResources('AWS::ApiGatewayV2::Stage'))[0]!;
const fnWith = (template: ReturnType<typeof synthScherp>['template'], service: string) =>
  Object.values(template.findResources('AWS::Lambda::Function')).find(
    (f: any) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === service,
  ) as any;

describe('per-route throttling on the HTTP API stage', () => {
  const { template } = synthScherp(undefined, { nag: false });
  const [stageId, stage] = stageOf(template);
  const settings = (stage as any).Properties.RouteSettings as Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }>;

  it('every route has its own settings: ingest routes the ingest budget, admin and profile routes theirs', () => {
    expect(Object.keys(settings).sort()).toEqual([...API_ROUTES, ...CONSOLE_ROUTES].map((r) => `${r.method} ${r.path}`).sort());
    for (const key of ['POST /v1/batch', 'POST /v1/track', 'POST /v1/b', 'POST /v1/context'])
      expect(settings[key]).toEqual({ ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 });
    for (const key of [
      'GET /v1/profiles/{id}',
      'DELETE /v1/profiles/{id}',
      'GET /v1/profiles/{id}/export',
      'POST /v1/sources',
      'PUT /v1/rules/{id}',
      'POST /v1/import',
      'POST /v1/dlq/redrive',
    ]) {
      expect(settings[key]).toEqual({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 });
    }
  });

  it('the stage is created after the routes it names', () => {
    const routeIds = Object.keys(template.findResources('AWS::ApiGatewayV2::Route'));
    expect(routeIds).toHaveLength(API_ROUTES.length + CONSOLE_ROUTES.length);
    expect((stage as any).DependsOn).toEqual(expect.arrayContaining(routeIds));
    expect(stageId).toBeDefined();
  });

  it('props set both budgets; out-of-range values fail at synth', () => {
    const { template: t } = synthScherp(
      { throttlingRateLimit: 300, throttlingBurstLimit: 600, adminThrottlingRateLimit: 20, adminThrottlingBurstLimit: 40 },
      { nag: false },
    );
    const s = (stageOf(t)[1] as any).Properties.RouteSettings;
    expect(s['POST /v1/batch']).toEqual({ ThrottlingRateLimit: 300, ThrottlingBurstLimit: 600 });
    expect(s['DELETE /v1/profiles/{id}']).toEqual({ ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 });
    expect(() => synthScherp({ adminThrottlingBurstLimit: 6000 }, { nag: false })).toThrow(/adminThrottlingBurstLimit/);
    expect(() => synthScherp({ sourceRateLimit: 0 }, { nag: false })).toThrow(/sourceRateLimit/);
  });
});

describe('per-source limits and reserved concurrency', () => {
  it('collect and context get the per-source limit; collect may reserve concurrency', () => {
    const { template } = synthScherp(
      {
        sourceRateLimit: 50,
        sourceBurstLimit: 80,
        functionSizing: { collect: { reservedConcurrency: 40, timeout: Duration.seconds(10) } },
      },
      { nag: false },
    );
    for (const service of ['collect', 'context']) {
      expect(fnWith(template, service).Properties.Environment.Variables).toMatchObject({
        [ENV.SOURCE_RATE_LIMIT]: '50',
        [ENV.SOURCE_BURST_LIMIT]: '80',
      });
    }
    expect(fnWith(template, 'collect').Properties.ReservedConcurrentExecutions).toBe(40);
    expect(fnWith(template, 'context').Properties.ReservedConcurrentExecutions).toBeUndefined();
    expect(fnWith(template, 'profile').Properties.Environment.Variables[ENV.SOURCE_RATE_LIMIT]).toBeUndefined();
  });

  it('defaults: 500 requests/s, burst 1000 per source; no reserved concurrency', () => {
    const { template } = synthScherp(undefined, { nag: false });
    expect(fnWith(template, 'collect').Properties.Environment.Variables).toMatchObject({
      [ENV.SOURCE_RATE_LIMIT]: '500',
      [ENV.SOURCE_BURST_LIMIT]: '1000',
    });
    expect(fnWith(template, 'collect').Properties.ReservedConcurrentExecutions).toBeUndefined();
  });
});

describe('the user-token secret', () => {
  it('is a generated secret only the context function may read', () => {
    const { template } = synthScherp(undefined, { nag: false });
    const context = fnWith(template, 'context');
    const ref = context.Properties.Environment.Variables[ENV.USER_TOKEN_SECRET_ARN];
    expect(ref).toEqual({ Ref: expect.any(String) });
    const secretId = ref.Ref as string;
    expect(template.findResources('AWS::SecretsManager::Secret')[secretId]).toBeDefined();
    const readers = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: any) =>
      JSON.stringify(p.Properties.PolicyDocument.Statement).includes(`"Ref":"${secretId}"`),
    );
    expect(readers).toHaveLength(1);
    expect(JSON.stringify(readers[0])).toContain('secretsmanager:GetSecretValue');
    const collect = fnWith(template, 'collect');
    expect(collect.Properties.Environment.Variables[ENV.USER_TOKEN_SECRET_ARN]).toBeUndefined();
    expect(fnWith(template, 'profile').Properties.Environment.Variables[ENV.USER_TOKEN_SECRET_ARN]).toBeUndefined();
  });
});
