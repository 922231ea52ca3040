/**
 * The environment contract between the CDK construct (lib/) and the handlers (lambdas/).
 * The local runtime (local/) sets the same variables, so one handler module serves both worlds.
 */
export const ENV = {
  /** Name of the single DynamoDB table. */
  TABLE_NAME: 'TABLE_NAME',
  /** URL of the SQS queue that `collect` writes accepted events to. */
  QUEUE_URL: 'QUEUE_URL',
  /** The ingest queue's dead-letter queue, and how many receives a message gets before it goes there. */
  DEAD_LETTER_QUEUE_URL: 'DEAD_LETTER_QUEUE_URL',
  /** ARNs of the ingest queue and its dead-letter queue (admin: redrive with a message-move task). */
  QUEUE_ARN: 'QUEUE_ARN',
  DEAD_LETTER_QUEUE_ARN: 'DEAD_LETTER_QUEUE_ARN',
  MAX_RECEIVE_COUNT: 'MAX_RECEIVE_COUNT',
  /** The construct's internal bus whose `Job Started` events start the jobs state machine (`lib/jobs.ts`). */
  JOBS_BUS_NAME: 'JOBS_BUS_NAME',
  /** The jobs bucket (export parts; `lib/jobs.ts`). */
  JOBS_BUCKET: 'JOBS_BUCKET',
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
  /** The secret back ends sign `POST /v1/context` user tokens with (`core/user-token.ts`): a Secrets Manager ARN in the cloud, plain locally. */
  USER_TOKEN_SECRET_ARN: 'USER_TOKEN_SECRET_ARN',
  USER_TOKEN_SECRET: 'SCHERP_USER_TOKEN_SECRET',
  /** collect's per-source token bucket (`core/rate-limit.ts`): requests per second and burst, per container. */
  SOURCE_RATE_LIMIT: 'SOURCE_RATE_LIMIT',
  SOURCE_BURST_LIMIT: 'SOURCE_BURST_LIMIT',
  /** The stitch function's timeout in seconds: how long a split waits for its final settle pass (`core/stitch-bound.ts`). */
  STITCH_TIMEOUT_SECONDS: 'STITCH_TIMEOUT_SECONDS',
  /** Optional endpoint override for DynamoDB (DynamoDB Local). */
  DYNAMODB_ENDPOINT: 'DYNAMODB_ENDPOINT',
  /** Role EventBridge Scheduler assumes to invoke evaluate for delayed actions. */
  SCHEDULER_ROLE_ARN: 'SCHEDULER_ROLE_ARN',
  /** Schedule group of delayed actions. */
  SCHEDULER_GROUP_NAME: 'SCHEDULER_GROUP_NAME',
  /** Dead-letter queue of delayed-action schedules. */
  SCHEDULER_DLQ_ARN: 'SCHEDULER_DLQ_ARN',
  /** Email destination: sender address, action → SES template (JSON), optional configuration set. */
  EMAIL_FROM: 'EMAIL_FROM',
  EMAIL_TEMPLATES: 'EMAIL_TEMPLATES',
  EMAIL_CONFIGURATION_SET: 'EMAIL_CONFIGURATION_SET',
  /**
   * The Scherp configuration as JSON, as the user gave it (defaults are filled in when it is
   * parsed, see `core/config.ts`); unset means all defaults.
   */
  CONFIG: 'SCHERP_CONFIG',
  /** Days an event stays in the timeline before its TTL removes it. */
  EVENT_RETENTION_DAYS: 'EVENT_RETENTION_DAYS',
  /** collect limits (bytes of one event's JSON, bytes of a request body, events per batch). */
  MAX_EVENT_BYTES: 'MAX_EVENT_BYTES',
  MAX_REQUEST_BYTES: 'MAX_REQUEST_BYTES',
  MAX_BATCH_EVENTS: 'MAX_BATCH_EVENTS',
  /** Days a (source, messageId) pair is remembered by `stitch` to drop repeats. */
  DEDUPE_WINDOW_DAYS: 'DEDUPE_WINDOW_DAYS',
  /** File import: the bucket files are dropped into, and the queue of its notifications and jobs. */
  IMPORT_BUCKET: 'IMPORT_BUCKET',
  IMPORT_QUEUE_URL: 'IMPORT_QUEUE_URL',
  /** The queues `GET /v1/health` reports (admin): JSON `[{ name, url?, deadLetterUrl? }]`. */
  HEALTH_QUEUES: 'HEALTH_QUEUES',
  /** Days rejected events are kept: collect's TTL, the days `GET /v1/rejected`, erasure and export read. */
  REJECTED_RETENTION_DAYS: 'REJECTED_RETENTION_DAYS',
  /** Days the bus archive and the import bucket keep what they hold (the erasure answer names them). */
  ARCHIVE_RETENTION_DAYS: 'ARCHIVE_RETENTION_DAYS',
  IMPORT_RETENTION_DAYS: 'IMPORT_RETENTION_DAYS',
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

/** A positive integer from the environment, or the fallback when unset; anything else stops the start. */
export function intEnv(name: EnvName, fallback: number): number {
  const v = optionalEnv(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`environment variable ${name} must be a positive integer (got "${v}")`);
  return n;
}
