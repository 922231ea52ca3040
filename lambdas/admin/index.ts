/**
 * admin: the sources and rejected-events API, authenticated with the admin key.
 *   POST   /v1/sources                       → 201 { source, key, writeKey } (the key, once)
 *   GET    /v1/sources                       → 200 { sources: [{ source, keys }] }
 *   DELETE /v1/sources/{id}                  → 204 (its keys stop working, its name is free; not `default`)
 *   PATCH  /v1/sources/{id} { trust?, rateLimit? } → 200 { source }
 *   POST   /v1/sources/{id}/keys             → 201 { key, writeKey } (older keys stay valid)
 *   DELETE /v1/sources/{id}/keys/{keyId}     → 200 { success: true }
 *   GET    /v1/rejected?limit=&sourceId=     → 200 { rejected: [...] }, newest first
 *   GET    /v1/dlq?limit=                    → 200 { deadLetters: [{ id, reason, receiveCount, at, event }] }
 *   POST   /v1/dlq/redrive  { ids?: [...] }  → 200 { redriven: n } (no body or no ids: every letter)
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { redriveLetters, type DeadLetters } from '../../app/dead-letters';
import { SqsDeadLetters } from '../../adapters/sqs-dead-letters';
import type { KeyStore, RejectedStore, SourceStore } from '../../app/ports';
import { createSource, deleteSource, listRejected, listSources, revokeKey, rotateKey, updateSource } from '../../app/sources';
import { ValidationError } from '../../core/errors';
import { BootstrapKeyStore, envLoader, secretLoader } from '../../adapters/keys';
import { rejectedStore, sourceStore } from '../shared/dynamo';
import { ENV, optionalEnv, requireEnv } from '../shared/env';
import { adminApiHandler, pathParam } from '../shared/admin-api';
import { json, parseJsonBody } from '../shared/http';
import { logger } from '../shared/observability';
import { lazy } from '../shared/lazy';

export interface AdminDeps {
  readonly keys: KeyStore;
  readonly sources: SourceStore;
  readonly rejected: RejectedStore;
  /** The ingest queue's dead letters. */
  readonly deadLetters: DeadLetters;
  readonly now?: () => Date;
}

/** Admin requests are small; anything bigger is refused before parsing. */
const MAX_ADMIN_BODY_BYTES = 16 * 1024;

export function createAdminHandler(deps: () => AdminDeps) {
  return adminApiHandler(deps, {
    'GET /v1/rejected': async (event, d) => json(200, { rejected: await listRejected(d.rejected, event.queryStringParameters ?? {}) }),
    'GET /v1/dlq': async (event, d) => {
      const limit = Number(event.queryStringParameters?.limit ?? 100);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw new ValidationError('limit must be an integer from 1 to 1000', [
          { path: 'limit', message: 'must be an integer from 1 to 1000' },
        ]);
      return json(200, { deadLetters: await d.deadLetters.list(limit) });
    },
    'POST /v1/dlq/redrive': async (event, d) => {
      const redriven = await redriveLetters(d.deadLetters, event.body ? parseJsonBody(event, MAX_ADMIN_BODY_BYTES) : undefined);
      logger.info('dead letters redriven', { redriven });
      return json(200, { redriven });
    },
    'GET /v1/sources': async (_event, d) => json(200, { sources: await listSources(d) }),
    'POST /v1/sources': async (event, d) => {
      const created = await createSource(d, parseJsonBody(event, MAX_ADMIN_BODY_BYTES));
      logger.info('source created', { sourceId: created.source.id, keyId: created.key.id });
      return json(201, created);
    },
    'DELETE /v1/sources/{id}': async (event, d) => {
      const sourceId = pathParam(event, 'id');
      await deleteSource(d, sourceId);
      logger.info('source deleted', { sourceId });
      return { statusCode: 204 };
    },
    'PATCH /v1/sources/{id}': async (event, d) => {
      const source = await updateSource(d, pathParam(event, 'id'), parseJsonBody(event, MAX_ADMIN_BODY_BYTES));
      logger.info('source changed', { sourceId: source.id, trust: source.trust });
      return json(200, { source });
    },
    'POST /v1/sources/{id}/keys': async (event, d) => {
      const sourceId = pathParam(event, 'id');
      const issued = await rotateKey(d, sourceId);
      logger.info('key added', { sourceId, keyId: issued.key.id });
      return json(201, issued);
    },
    'DELETE /v1/sources/{id}/keys/{keyId}': async (event, d) => {
      const sourceId = pathParam(event, 'id');
      const keyId = pathParam(event, 'keyId');
      await revokeKey(d, sourceId, keyId);
      logger.info('key revoked', { sourceId, keyId });
      return json(200, { success: true });
    },
  });
}

const cloudDeps = lazy((): AdminDeps => {
  const secretArn = optionalEnv(ENV.ADMIN_KEY_SECRET_ARN);
  return {
    keys: new BootstrapKeyStore({
      admin: secretArn ? secretLoader(new SecretsManagerClient({}), secretArn) : envLoader(optionalEnv(ENV.ADMIN_KEY)),
    }),
    sources: sourceStore(),
    rejected: rejectedStore(),
    deadLetters: new SqsDeadLetters(new SQSClient({}), {
      deadLetterQueueUrl: requireEnv(ENV.DEAD_LETTER_QUEUE_URL),
      deadLetterQueueArn: requireEnv(ENV.DEAD_LETTER_QUEUE_ARN),
      queueUrl: requireEnv(ENV.QUEUE_URL),
      queueArn: requireEnv(ENV.QUEUE_ARN),
    }),
  };
});

export const handler = createAdminHandler(cloudDeps);
