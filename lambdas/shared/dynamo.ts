import { documentClient, localDynamoConfig } from '../../adapters/dynamo/client';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { DynamoMessageLog } from '../../adapters/dynamo/message-log';
import { DynamoRejectedStore } from '../../adapters/dynamo/rejected-store';
import { DynamoSourceStore } from '../../adapters/dynamo/source-store';
import { DynamoDebugStore } from '../../adapters/dynamo/debug-store';
import { DynamoStatsStore } from '../../adapters/dynamo/stats-store';
import { ENV, intEnv, optionalEnv, requireEnv } from './env';
import { lazy } from './lazy';

/** The document client for this container: DynamoDB Local when DYNAMODB_ENDPOINT is set. */
export const dynamo = lazy(() => {
  const endpoint = optionalEnv(ENV.DYNAMODB_ENDPOINT);
  return documentClient(endpoint ? localDynamoConfig(endpoint) : {});
});

export const tableName = lazy(() => requireEnv(ENV.TABLE_NAME));

export const profileStore = lazy(
  () => new DynamoProfileStore(dynamo(), { tableName: tableName(), retentionDays: Number(optionalEnv(ENV.EVENT_RETENTION_DAYS) ?? 400) }),
);

export const sourceStore = lazy(() => new DynamoSourceStore(dynamo(), tableName()));

export const rejectedStore = lazy(
  () => new DynamoRejectedStore(dynamo(), { tableName: tableName(), retentionDays: intEnv(ENV.REJECTED_RETENTION_DAYS, 7) }),
);

export const messageLog = lazy(
  () => new DynamoMessageLog(dynamo(), { tableName: tableName(), windowDays: intEnv(ENV.DEDUPE_WINDOW_DAYS, 7) }),
);

export const debugStore = lazy(() => new DynamoDebugStore(dynamo(), { tableName: tableName() }));

export const statsStore = lazy(() => new DynamoStatsStore(dynamo(), tableName()));
