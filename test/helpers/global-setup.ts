/**
 * Starts one DynamoDB Local for the integration and end-to-end tests (on a free port); each test
 * file makes its own uniquely named table in it, so files run in parallel safely.
 */
import { startDynamoLocal } from '../../local/dynamodb-local';

export default async function globalSetup(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const ddb = await startDynamoLocal();
  process.env.SCHERP_TEST_DYNAMO_ENDPOINT = ddb.endpoint;
  (globalThis as { __scherpDynamo?: typeof ddb }).__scherpDynamo = ddb;
}
