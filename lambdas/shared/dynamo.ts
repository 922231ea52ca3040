import { documentClient, localDynamoConfig } from '../../adapters/dynamo/client';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { ENV, optionalEnv, requireEnv } from './env';
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
