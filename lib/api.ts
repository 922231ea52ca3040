import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { API_ROUTES, type ApiFunction, type ApiRoute, CONSOLE_ROUTES, CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS } from '../lambdas/routes';
import { type RouteThrottle, throttleRoutes } from './api-throttling';
import { ack } from './nag';
import { platformResourceName } from './naming';

/** Properties of {@link ScherpApi}. */
export interface ScherpApiProps {
  /** The function serving each route of `API_ROUTES` (`lambdas/routes.ts`). */
  readonly functions: Readonly<Record<ApiFunction, lambda.IFunction>>;
  readonly corsAllowedOrigins: string[];
  /** Budget of the stage and of each ingest route (collect, `POST /v1/context`). */
  readonly ingestThrottle: RouteThrottle;
  /** Budget of each route of the read and admin keys. */
  readonly adminThrottle: RouteThrottle;
  readonly logRetention: logs.RetentionDays;
  /** The function serving the console (`CONSOLE_ROUTES`, same origin as the API). @default - no console routes */
  readonly consoleFunction?: lambda.IFunction;
}

/**
 * The HTTP API: one payload-2.0 Lambda integration per function, the routes of `API_ROUTES`
 * (the list the local server serves too), CORS, the default stage with JSON access logs and
 * per-route throttling (`lib/api-throttling.ts`). Authentication is in the handlers.
 */
export class ScherpApi extends Construct {
  public readonly httpApi: apigwv2.HttpApi;
  public readonly stage: apigwv2.HttpStage;
  /** Base URL of the default stage (ends with `/`). */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: ScherpApiProps) {
    super(scope, id);
    const api = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: platformResourceName(this, 120),
      description: 'Scherp collect, profile and admin API',
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: props.corsAllowedOrigins,
        // Every method a route uses (the admin APIs PUT, PATCH and DELETE), as the local server allows.
        allowMethods: CORS_ALLOW_METHODS.map((m) => apigwv2.CorsHttpMethod[m]),
        allowHeaders: [...CORS_ALLOW_HEADERS],
      },
    });
    this.httpApi = api;
    const routes = this.addRoutes(API_ROUTES, props.functions);
    const consoleRoutes = props.consoleFunction ? CONSOLE_ROUTES : [];
    if (props.consoleFunction) routes.push(...this.addRoutes(consoleRoutes, { console: props.consoleFunction }));

    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: props.logRetention });
    this.stage = api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: props.ingestThrottle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    throttleRoutes(this.stage, [...API_ROUTES, ...consoleRoutes], routes, props.ingestThrottle, props.adminThrottle);
    this.url = this.stage.url;

    for (const route of api.node.findAll().filter((c) => c instanceof apigwv2.HttpRoute)) {
      ack(
        route,
        'AwsSolutions-APIG4',
        'Authentication is done in the handlers (the console route serves only the public page and assets; the page signs in against the API): collect and context check the write key (HTTP Basic, Segment-compatible SDKs; context also in the body), profile checks the read key (the admin key for export and erasure), admin and rules check the admin key. API Gateway authorizers cannot verify these keys without a Lambda authorizer that would add latency and cost to every event.',
      );
    }
  }

  private readonly integrations = new Map<lambda.IFunction, HttpLambdaIntegration>();

  /** Routes of `routes`, each to its function's integration (one per function). */
  private addRoutes<F extends string>(
    routes: readonly { method: ApiRoute['method']; path: string; fn: F }[],
    functions: Readonly<Record<F, lambda.IFunction>>,
  ): apigwv2.HttpRoute[] {
    return routes.flatMap((r) =>
      this.httpApi.addRoutes({
        path: r.path,
        methods: [apigwv2.HttpMethod[r.method]],
        integration: this.integrationFor(r.fn, functions[r.fn]),
      }),
    );
  }

  private integrationFor(name: string, fn: lambda.IFunction): HttpLambdaIntegration {
    let i = this.integrations.get(fn);
    if (!i) {
      i = new HttpLambdaIntegration(`${name[0]!.toUpperCase()}${name.slice(1)}Integration`, fn, {
        payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
        // One invoke permission per function for this API (`*/*/*`), not one per route: 57 routes
        // made 57 permissions, and two platforms in one stack passed CloudFormation's 500
        // resources. Each handler answers only its own route keys (404 otherwise).
        scopePermissionToRoute: false,
      });
      this.integrations.set(fn, i);
    }
    return i;
  }
}
