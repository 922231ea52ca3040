import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { DEFAULT_STITCH_TIMEOUT_SECONDS } from '../core/stitch-bound';
import { LAMBDA_BUNDLING } from './bundling';
import { ack } from './nag';

/** The Scherp handlers; each lives in `lambdas/<name>/index.ts` and exports `handler`. */
export type ScherpFunctionName =
  | 'collect'
  | 'stitch'
  | 'evaluate'
  | 'profile'
  | 'context'
  | 'admin'
  | 'rules'
  | 'import'
  | 'fileImport'
  | 'insights'
  | 'console'
  | 'identity'
  | 'jobs';

/** Powertools log levels accepted by `POWERTOOLS_LOG_LEVEL`. */
export type ScherpLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** Memory and timeout of one function. */
export interface FunctionSizing {
  /** Memory in MB (128 to 10240). */
  readonly memorySize: number;
  /** Function timeout (at most 15 minutes). */
  readonly timeout: Duration;
  /**
   * Reserved concurrency: at most this many containers run at once, and that many are kept out
   * of the account's shared pool for it. For collect this bounds what the per-source limits
   * allow in total (`sourceRateLimit` × containers) and keeps an ingest flood from taking the
   * concurrency the profile and admin functions need. @default - none (the account's pool)
   */
  readonly reservedConcurrency?: number;
}

/** Sizing used when the caller does not override it. */
export const DEFAULT_FUNCTION_SIZING: Readonly<Record<ScherpFunctionName, FunctionSizing>> = {
  // Synchronous behind API Gateway (30 s hard limit): keep it short.
  collect: { memorySize: 512, timeout: Duration.seconds(10) },
  // A split's final settle pass waits for this bound (`core/split.ts`): the same constant.
  stitch: { memorySize: 512, timeout: Duration.seconds(DEFAULT_STITCH_TIMEOUT_SECONDS) },
  evaluate: { memorySize: 512, timeout: Duration.seconds(30) },
  profile: { memorySize: 512, timeout: Duration.seconds(10) },
  // The browser-safe POST /v1/context (page loads wait on it): three reads per request.
  context: { memorySize: 512, timeout: Duration.seconds(10) },
  admin: { memorySize: 256, timeout: Duration.seconds(10) },
  // Admin API: dry runs read a timeline; backtests scan profiles (bounded by maxProfiles).
  rules: { memorySize: 512, timeout: Duration.seconds(29) },
  // Enrichment import: up to 1,000 rows per request, queued in batches.
  import: { memorySize: 512, timeout: Duration.seconds(29) },
  // File import (drop bucket): a job runs up to the timeout, then continues in a new invocation.
  fileImport: { memorySize: 512, timeout: Duration.minutes(15) },
  // The console's debugger and overview: a few small queries per request.
  insights: { memorySize: 256, timeout: Duration.seconds(10) },
  // The console's page and assets (read once per container, from the function's own code).
  console: { memorySize: 256, timeout: Duration.seconds(10) },
  // Identity admin (split, release, lifting a suppression): reads a person's partitions, one transaction.
  identity: { memorySize: 512, timeout: Duration.seconds(29) },
  // The jobs state machine's segment worker: hands a segment over a minute before its timeout.
  jobs: { memorySize: 1024, timeout: Duration.minutes(15) },
};

/** CloudWatch metrics namespace shared by every handler. */
export const METRICS_NAMESPACE = 'Scherp';

/** Directory holding `collect/`, `stitch/`, ... handler folders. */
export const LAMBDAS_DIR = path.join(__dirname, '..', 'lambdas');

/**
 * Where the package build (`npm run build`, `scripts/build.ts`) puts each handler's bundle,
 * `<name>/index.js` and its source map: `dist/bundles/` next to the compiled `dist/lib/`.
 */
export const BUNDLES_DIR = path.join(__dirname, '..', 'bundles');

/** How a handler's code reaches the function: the part of the function props that differs. */
export type FunctionCodeSource = Pick<nodejs.NodejsFunctionProps, 'code' | 'handler' | 'entry' | 'bundling'>;

/**
 * The one place that chooses where a handler's code comes from.
 *
 * - Running from the TypeScript sources (this repository: `npx cdk synth`, `npm test`), esbuild
 *   bundles `lambdas/<name>/index.ts` at synth with the shared `LAMBDA_BUNDLING` options.
 * - Running compiled (the installed package), the bundle built with the same options at pack
 *   time is deployed as it is: the user's `cdk synth` needs neither esbuild nor Docker.
 */
export function functionCodeSource(name: string, compiled = !__filename.endsWith('.ts')): FunctionCodeSource {
  if (compiled) {
    const dir = path.join(BUNDLES_DIR, name);
    if (!fs.existsSync(path.join(dir, 'index.js'))) {
      throw new Error(
        `Scherp's bundled code of the ${name} function is missing (${dir}/index.js): build the package with \`npm run build\` (npm pack runs it)`,
      );
    }
    return { code: lambda.Code.fromAsset(dir), handler: 'index.handler' };
  }
  return {
    entry: path.join(LAMBDAS_DIR, name, 'index.ts'),
    handler: 'handler',
    // Shared with the package build and the bundle-size benchmark (`npm run bench`); see lib/bundling.ts.
    bundling: {
      minify: LAMBDA_BUNDLING.minify,
      sourceMap: LAMBDA_BUNDLING.sourceMap,
      sourcesContent: LAMBDA_BUNDLING.sourcesContent,
      format: nodejs.OutputFormat.CJS,
      target: LAMBDA_BUNDLING.target,
      externalModules: [...LAMBDA_BUNDLING.externalModules],
      mainFields: [...LAMBDA_BUNDLING.mainFields],
    },
  };
}

export interface ScherpFunctionProps {
  /** Which handler to deploy; also the Powertools service name (`email`: the optional email destination). */
  readonly name: ScherpFunctionName | 'email';
  /** Memory and timeout. */
  readonly sizing: FunctionSizing;
  /** Retention of the function's log group. */
  readonly logRetention: logs.RetentionDays;
  /** `POWERTOOLS_LOG_LEVEL`. */
  readonly logLevel: ScherpLogLevel;
  /**
   * Handler-specific variables (names from `lambdas/shared/env.ts`); those of a table, queue,
   * secret or bus are better added with their grant by `lib/bind.ts`.
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * How the function is invoked, which says where a failed invocation goes (the reason of the
   * cdk-nag Serverless-LambdaDLQ acknowledgment): `api` (an HTTP API route, synchronously: the
   * failure is the answer), `queue` (an SQS event-source mapping: failed messages go to the
   * queue's dead-letter queue), or asynchronously, with where its failures go.
   */
  readonly invocation: 'api' | 'queue' | { readonly asyncFailures: string };
  /** Where the code comes from. @default functionCodeSource(name) */
  readonly code?: FunctionCodeSource;
}

/** Why a function of each `invocation` has no Lambda dead-letter queue. */
const NO_LAMBDA_DLQ = {
  api: 'Not invoked asynchronously: an HTTP API route invokes it synchronously, and a failure is the HTTP answer.',
  queue:
    'Not invoked asynchronously: an SQS event-source mapping invokes it, and failed messages go to the dead-letter queue of its queue.',
} as const;

/** The runtime is pinned on purpose (cdk-nag AwsSolutions-L1, Serverless-LambdaLatestVersion). */
const PINNED_RUNTIME =
  'Node.js 22 is pinned deliberately: the handlers and their bundle are built and tested for node22; moving to a newer runtime is a reviewed change.';

/**
 * Creates a Scherp handler: Node.js 22 on arm64, bundled by esbuild with the shared
 * `LAMBDA_BUNDLING` options (the runtime's own AWS SDK v3 stays external; at synth or at pack
 * time, see {@link functionCodeSource}), its own log group
 * with retention, and its own role that may only write to that log group. Everything else must
 * be granted explicitly by the caller. The cdk-nag findings of these choices (pinned runtime, no
 * X-Ray, no Lambda DLQ for its `invocation`) are acknowledged here, once.
 */
export function createScherpFunction(scope: Construct, id: string, props: ScherpFunctionProps): nodejs.NodejsFunction {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, { retention: props.logRetention });
  // An explicit role replaces the default AWSLambdaBasicExecutionRole (logs:* on every log
  // group) with write access to this function's own log group only.
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Scherp ${props.name} function`,
  });
  logGroup.grantWrite(role);

  const fn = new nodejs.NodejsFunction(scope, id, {
    ...(props.code ?? functionCodeSource(props.name)),
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.sizing.memorySize,
    timeout: props.sizing.timeout,
    ...(props.sizing.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: props.sizing.reservedConcurrency } : {}),
    role,
    logGroup,
    environment: {
      ...props.environment,
      POWERTOOLS_SERVICE_NAME: props.name,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: props.logLevel,
      // The bundle ships a source map; this makes Node use it for stack traces.
      NODE_OPTIONS: '--enable-source-maps',
    },
  });
  ack(fn, 'AwsSolutions-L1', PINNED_RUNTIME);
  ack(fn, 'Serverless-LambdaLatestVersion', PINNED_RUNTIME);
  ack(
    fn,
    'Serverless-LambdaTracing',
    'X-Ray is off to keep the per-event cost at zero; observability comes from Powertools structured logs and metrics.',
  );
  const inv = props.invocation;
  ack(fn, 'Serverless-LambdaDLQ', typeof inv === 'string' ? NO_LAMBDA_DLQ[inv] : inv.asyncFailures);
  return fn;
}

/**
 * The maker of a stage's API functions (invoked synchronously by HTTP API routes), with the
 * stage's sizing and logging: `make(name, id, environment)`.
 */
export function apiFunctionMaker<N extends ScherpFunctionName>(
  scope: Construct,
  props: {
    readonly sizing: Readonly<Record<N, FunctionSizing>>;
    readonly logRetention: logs.RetentionDays;
    readonly logLevel: ScherpLogLevel;
  },
): (name: N, id: string, environment?: Record<string, string>) => nodejs.NodejsFunction {
  return (name, id, environment = {}) =>
    createScherpFunction(scope, id, {
      name,
      sizing: props.sizing[name],
      logRetention: props.logRetention,
      logLevel: props.logLevel,
      environment,
      invocation: 'api',
    });
}
