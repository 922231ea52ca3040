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
export const dynamo = /* @__PURE__ */ lazy(() => {
  const endpoint = optionalEnv(ENV.DYNAMODB_ENDPOINT);
  return documentClient(endpoint ? localDynamoConfig(endpoint) : {});
});

export const tableName = /* @__PURE__ */ lazy(() => requireEnv(ENV.TABLE_NAME));

export const profileStore = /* @__PURE__ */ lazy(
  () => new DynamoProfileStore(dynamo(), { tableName: tableName(), retentionDays: Number(optionalEnv(ENV.EVENT_RETENTION_DAYS) ?? 400) }),
);

export const sourceStore = /* @__PURE__ */ lazy(() => new DynamoSourceStore(dynamo(), tableName()));

export const rejectedStore = /* @__PURE__ */ lazy(
  () => new DynamoRejectedStore(dynamo(), { tableName: tableName(), retentionDays: intEnv(ENV.REJECTED_RETENTION_DAYS, 7) }),
);

export const messageLog = /* @__PURE__ */ lazy(
  () => new DynamoMessageLog(dynamo(), { tableName: tableName(), windowDays: intEnv(ENV.DEDUPE_WINDOW_DAYS, 7) }),
);

export const debugStore = /* @__PURE__ */ lazy(() => new DynamoDebugStore(dynamo(), { tableName: tableName() }));

export const statsStore = /* @__PURE__ */ lazy(() => new DynamoStatsStore(dynamo(), tableName()));
