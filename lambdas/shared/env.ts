/**
 * The environment contract between the CDK construct (lib/) and the handlers (lambdas/).
 * The local runtime (local/) sets the same variables, so one handler module serves both worlds.
 */
export const ENV = {
  /** Name of the single DynamoDB table. */
  TABLE_NAME: 'TABLE_NAME',
  /** URL of the SQS queue that `collect` writes accepted events to. */
  QUEUE_URL: 'QUEUE_URL',
  /** Name of the EventBridge bus that `evaluate` puts actions on. */
  EVENT_BUS_NAME: 'EVENT_BUS_NAME',
  /** Secrets Manager ARNs holding the bootstrap keys (cloud). Each secret is a plain string. */
  WRITE_KEY_SECRET_ARN: 'WRITE_KEY_SECRET_ARN',
  READ_KEY_SECRET_ARN: 'READ_KEY_SECRET_ARN',
  ADMIN_KEY_SECRET_ARN: 'ADMIN_KEY_SECRET_ARN',
  /** Plain bootstrap keys (local runtime and tests only; never set in the cloud). */
  WRITE_KEY: 'SCHERP_WRITE_KEY',
  READ_KEY: 'SCHERP_READ_KEY',
  ADMIN_KEY: 'SCHERP_ADMIN_KEY',
  /** Optional endpoint override for DynamoDB (DynamoDB Local). */
  DYNAMODB_ENDPOINT: 'DYNAMODB_ENDPOINT',
  /**
   * The Scherp configuration as JSON, as the user gave it (defaults are filled in when it is
   * parsed, see `core/config.ts`); unset means all defaults.
   */
  CONFIG: 'SCHERP_CONFIG',
  /** Days an event stays in the timeline before its TTL removes it. */
  EVENT_RETENTION_DAYS: 'EVENT_RETENTION_DAYS',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

export function requireEnv(name: EnvName): string {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}

export function optionalEnv(name: EnvName): string | undefined {
  const v = process.env[name];
  return v ? v : undefined;
}
