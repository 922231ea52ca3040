/**
 * rules: the admin API for rules and audiences, authenticated with the admin key.
 *   GET /v1/rules · GET|PUT|DELETE /v1/rules/{id} · POST /v1/rules/{id}/test
 *   POST /v1/rules/{id}/backtest → 202 a backtest job (Location: /v1/jobs/{id}; its answer there once it succeeded)
 *   GET /v1/health → 200 { queues: [{ name, visible, inFlight, deadLetters }], recentErrors } (the console's Health page)
 * and the audience and job routes (`./audiences.ts`; reads with the read key too).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { S3Client } from '@aws-sdk/client-s3';
import { S3JobFiles } from '../../adapters/s3-job-files';
import { readHealth, type HealthDeps } from '../../app/health';
import type { JobFileStore, KeyStore } from '../../app/ports';
import {
  deleteDefinition,
  dryRun,
  getDefinition,
  listDefinitions,
  putDefinitionAndBackfill,
  type RuleAdminDeps,
  startBacktest,
} from '../../app/rule-admin';
import { ValidationError } from '../../core/errors';
import { BacktestBodySchema, DryRunBodySchema } from '../../core/rules/schema';
import { parseInput } from '../../core/validation';
import { DynamoEvaluationFailures } from '../../adapters/dynamo/evaluation-failures';
import { DynamoHistoryStore } from '../../adapters/dynamo/history-store';
import { DynamoPersonalizationStore } from '../../adapters/dynamo/personalization-store';
import { DynamoRuleStore } from '../../adapters/dynamo/rule-store';
import { BootstrapKeyStore, envLoader, secretLoader } from '../../adapters/keys';
import { parseMonitoredQueues, SqsQueueMonitor } from '../../adapters/sqs-queue-monitor';
import { dynamo, profileStore, tableName } from '../shared/dynamo';
import { ENV, optionalEnv } from '../shared/env';
import { adminApiHandler, pathParam } from '../shared/admin-api';
import { json, parseJsonBody } from '../shared/http';
import { lazy } from '../shared/lazy';
import { logger } from '../shared/observability';
import type { AudienceDeps } from '../../app/audiences';
import { DynamoMembershipStore } from '../../adapters/dynamo/membership-store';
import { DynamoJobStore } from '../../adapters/dynamo/job-store';
import { BusJobLauncher } from '../../adapters/bus-job-launcher';
import { EventBridgeBus } from '../../adapters/eventbridge-bus';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { audienceRoutes } from './audiences';
import { READ_ROUTE_KEYS } from './audience-routes';

export interface RulesDeps extends RuleAdminDeps, AudienceDeps {
  readonly keys: KeyStore;
  /** Queue depths and evaluation failures (`GET /v1/health`). */
  readonly health: HealthDeps;
  /** The files export jobs wrote (`GET /v1/jobs/{id}/files/{n}`). */
  readonly files?: JobFileStore;
}

/** Largest rules request body after decompression (a rule, or a rule and an event). */
const MAX_RULES_BODY_BYTES = 512 * 1024;

function objectBody(event: APIGatewayProxyEventV2): Record<string, unknown> {
  const body = parseJsonBody(event, MAX_RULES_BODY_BYTES);
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new ValidationError('the body must be a JSON object', [{ path: '(body)', message: 'must be an object' }]);
  return body as Record<string, unknown>;
}

export function createRulesHandler(deps: () => RulesDeps) {
  return adminApiHandler(
    deps,
    {
      ...audienceRoutes<RulesDeps>(),
      'GET /v1/rules': async (_event, d) => json(200, await listDefinitions(d)),
      'GET /v1/health': async (_event, d) => json(200, await readHealth(d.health)),
      'GET /v1/rules/{id}': async (event, d) => json(200, await getDefinition(d, pathParam(event, 'id'))),
      'PUT /v1/rules/{id}': async (event, d) => {
        // Storing an audience starts its backfill; `?announce=false` keeps its changes off the bus.
        const announce = event.queryStringParameters?.announce !== 'false';
        const body = parseJsonBody(event, MAX_RULES_BODY_BYTES);
        const { definition: def, job } = await putDefinitionAndBackfill(d, pathParam(event, 'id'), body, { announce });
        logger.info('rule stored', { ruleId: def.id, ...(job ? { jobId: job.id } : {}) });
        const res = json(200, def);
        return job ? { ...res, headers: { ...res.headers, 'scherp-job-id': job.id, location: `/v1/jobs/${job.id}` } } : res;
      },
      'DELETE /v1/rules/{id}': async (event, d) => {
        const id = pathParam(event, 'id');
        await deleteDefinition(d, id);
        logger.info('rule deleted', { ruleId: id });
        return { statusCode: 204 };
      },
      'POST /v1/rules/{id}/test': async (event, d) => {
        const id = pathParam(event, 'id');
        const b = parseInput(DryRunBodySchema, objectBody(event), 'dry run request');
        return json(200, await dryRun(d, id, b));
      },
      'POST /v1/rules/{id}/backtest': async (event, d) => {
        // A job over every profile (no cap): 202, its progress and then its answer at Location.
        const id = pathParam(event, 'id');
        const b = parseInput(BacktestBodySchema, objectBody(event), 'backtest request');
        const job = await startBacktest(d, id, {
          rule: b.rule,
          from: b.from as string,
          to: b.to as string,
          ...(b.segments !== undefined ? { segments: b.segments } : {}),
        });
        logger.info('backtest started', { ruleId: id, jobId: job.id });
        const res = json(202, job);
        return { ...res, headers: { ...res.headers, 'scherp-job-id': job.id, location: `/v1/jobs/${job.id}` } };
      },
    },
    READ_ROUTE_KEYS,
  );
}

const cloudDeps = lazy((): RulesDeps => {
  const secretArn = optionalEnv(ENV.ADMIN_KEY_SECRET_ARN);
  const readArn = optionalEnv(ENV.READ_KEY_SECRET_ARN);
  const jobsBus = optionalEnv(ENV.JOBS_BUS_NAME);
  const jobsBucket = optionalEnv(ENV.JOBS_BUCKET);
  return {
    ...(jobsBucket ? { files: new S3JobFiles(new S3Client({}), jobsBucket) } : {}),
    rules: new DynamoRuleStore(dynamo(), tableName()),
    store: profileStore(),
    parts: new DynamoPersonalizationStore(dynamo(), tableName()),
    history: new DynamoHistoryStore(dynamo(), tableName()),
    members: new DynamoMembershipStore(dynamo(), tableName()),
    ...(optionalEnv(ENV.EVENT_RETENTION_DAYS) ? { retentionDays: Number(optionalEnv(ENV.EVENT_RETENTION_DAYS)) } : {}),
    // Storing an audience starts its backfill: a `Job Started` on the jobs bus starts the state machine.
    ...(jobsBus
      ? {
          backfills: {
            jobs: new DynamoJobStore(dynamo(), tableName()),
            launcher: new BusJobLauncher(new EventBridgeBus(new EventBridgeClient({}), jobsBus)),
          },
        }
      : {}),
    keys: new BootstrapKeyStore({
      admin: secretArn ? secretLoader(new SecretsManagerClient({}), secretArn) : envLoader(optionalEnv(ENV.ADMIN_KEY)),
      // The audience reads take the read key too.
      read: readArn ? secretLoader(new SecretsManagerClient({}), readArn) : envLoader(optionalEnv(ENV.READ_KEY)),
    }),
    health: {
      queues: new SqsQueueMonitor(new SQSClient({}), parseMonitoredQueues(optionalEnv(ENV.HEALTH_QUEUES))),
      failures: new DynamoEvaluationFailures(dynamo(), tableName()),
    },
  };
});

export const handler = createRulesHandler(cloudDeps);
