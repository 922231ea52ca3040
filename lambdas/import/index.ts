/**
 * import: `POST /v1/import?source=&format=ndjson|csv&firstLine=` (admin key). Queues each valid
 * row as an identify event of the source; answers with the count and the bad rows by line. Its
 * own function because it writes (sends to the ingest queue), while `profile` only reads.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { importRows } from '../../app/import';
import type { EventQueue, KeyStore, SourceStore } from '../../app/ports';
import type { ScherpConfig } from '../../core/config';
import { AuthenticationError, ValidationError } from '../../core/errors';
import { BootstrapKeyStore, envLoader, secretLoader } from '../../adapters/keys';
import { SqsEventQueue } from '../../adapters/sqs-queue';
import { scherpConfig } from '../shared/config';
import { sourceStore } from '../shared/dynamo';
import { ENV, optionalEnv, requireEnv } from '../shared/env';
import { bodyText, credential, errorResponse, json, type HttpResult } from '../shared/http';
import { lazy } from '../shared/lazy';
import { logger } from '../shared/observability';

export interface ImportHandlerDeps {
  readonly keys: KeyStore;
  readonly queue: EventQueue;
  readonly sources: SourceStore;
  readonly config: ScherpConfig;
}

/** 1,000 rows of up to ~4 KB. */
const MAX_IMPORT_BODY = 4 * 1024 * 1024;

export function createImportHandler(deps: () => ImportHandlerDeps) {
  return async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    try {
      const key = credential(event);
      if (!key || !(await deps().keys.authenticate('admin', key))) throw new AuthenticationError('missing or invalid admin key');
      const q = event.queryStringParameters ?? {};
      if (!q.source)
        throw new ValidationError('source is required: ?source=<source id or name>', [{ path: 'source', message: 'is required' }]);
      const type = (event.headers?.['content-type'] ?? '').toLowerCase();
      const format = q.format ?? (type.includes('csv') ? 'csv' : 'ndjson');
      if (format !== 'csv' && format !== 'ndjson')
        throw new ValidationError('format must be ndjson or csv', [{ path: 'format', message: 'must be ndjson or csv' }]);
      const firstLine = q.firstLine === undefined ? 1 : Number(q.firstLine);
      if (!Number.isInteger(firstLine) || firstLine < 1)
        throw new ValidationError('firstLine must be a positive integer', [{ path: 'firstLine', message: 'must be a positive integer' }]);
      const { queue, sources, config } = deps();
      const r = await importRows(
        { queue, sources, config },
        { text: bodyText(event, MAX_IMPORT_BODY), format, source: q.source, firstLine },
      );
      logger.info('import', { sourceId: r.sourceId, imported: r.imported, errors: r.errors.length });
      return json(200, r);
    } catch (err) {
      return errorResponse(err);
    }
  };
}

const cloudDeps = lazy((): ImportHandlerDeps => {
  const adminArn = optionalEnv(ENV.ADMIN_KEY_SECRET_ARN);
  return {
    keys: new BootstrapKeyStore({
      admin: adminArn ? secretLoader(new SecretsManagerClient({}), adminArn) : envLoader(optionalEnv(ENV.ADMIN_KEY)),
    }),
    queue: new SqsEventQueue(new SQSClient({}), requireEnv(ENV.QUEUE_URL)),
    sources: sourceStore(),
    config: scherpConfig(),
  };
});

export const handler = createImportHandler(cloudDeps);
