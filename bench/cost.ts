import { DEFAULT_STITCH_BATCH_SIZE } from '../core/ingest';
/**
 * The cost model: public AWS on-demand list prices × what the bench measured → dollars per
 * million events, by service. Pure arithmetic, unit-tested in test/unit/bench.test.ts.
 */

/** us-east-1 on-demand list prices, as published on the AWS pricing pages (looked up 2026-11-29). */
export const PRICES = {
  region: 'us-east-1',
  date: '2026-11-29',
  /** API Gateway HTTP API, first 300 M requests/month; metered per 512 KB of request. */
  apiGatewayHttpPerMillion: 1.0,
  apiGatewayMeterBytes: 512 * 1024,
  /** Lambda on arm64 (Graviton), first 7.5 G GB-s/month. */
  lambdaArmPerGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  /** SQS standard queue; every 64 KB chunk of a request is billed as one request. */
  sqsPerMillionRequests: 0.4,
  sqsChunkBytes: 64 * 1024,
  /** DynamoDB on-demand (standard table class), after the November 2024 price cut. */
  dynamoPerMillionWru: 0.625,
  dynamoPerMillionRru: 0.125,
  /** EventBridge custom events put on a bus, per 64 KB chunk. */
  eventBridgePerMillion: 1.0,
  /** Secrets Manager API calls (the keys are cached per Lambda container: per cold start, not per event). */
  secretsManagerPer10kCalls: 0.05,
} as const;

export type Prices = { -readonly [K in keyof typeof PRICES]: (typeof PRICES)[K] };

/**
 * Lambda bills wall time, which in these handlers is mostly waiting on AWS calls. Local
 * DynamoDB latency says nothing about the cloud's, so the model uses typical in-region
 * latencies per call (stated here and in docs/benchmarks.md) times the measured call counts.
 */
export const ASSUMED_CALL_MS = { dynamo: 5, sqsSendBatch: 10, eventBridgePut: 15 } as const;

export interface CostInputs {
  /** Events per HTTP request (Segment SDKs batch up to ~500 KB; analytics.js sends 1 by default). */
  readonly batchSize: number;
  /** Mean size of one event as sent (JSON bytes). */
  readonly eventBytes: number;
  /** DynamoDB write and read request units per event, everything included. */
  readonly wruPerEvent: number;
  readonly rruPerEvent: number;
  /** Bus events (actions) published per event. */
  readonly busEventsPerEvent: number;
  /** collect's own time per request at this batch size (measured locally, no network calls), ms. */
  readonly collectCpuMs: number;
  /** DynamoDB calls per event in stitch and evaluate (measured). */
  readonly dynamoCallsPerEvent: number;
  /** Time of one in-region AWS call, ms. @default ASSUMED_CALL_MS */
  readonly callMs?: typeof ASSUMED_CALL_MS;
  /** @default 512 */
  readonly memoryMb?: number;
  /** SQS messages per stitch invocation. @default DEFAULT_STITCH_BATCH_SIZE */
  readonly stitchBatchSize?: number;
  /** Stream records per evaluate invocation. @default 100 */
  readonly evaluateBatchSize?: number;
}

export interface CostBreakdown {
  readonly batchSize: number;
  /** Dollars per million events, by service. */
  readonly byService: Readonly<Record<'apiGateway' | 'lambda' | 'sqs' | 'dynamodb' | 'eventBridge' | 'secretsManager', number>>;
  readonly total: number;
}

const M = 1_000_000;
/** SendMessageBatch takes at most 10 entries. */
const SQS_SEND_BATCH = 10;

export function costPerMillionEvents(i: CostInputs, prices: Prices = PRICES): CostBreakdown {
  const b = i.batchSize;
  const gb = (i.memoryMb ?? 512) / 1024;
  const stitchBatch = i.stitchBatchSize ?? DEFAULT_STITCH_BATCH_SIZE;
  const evaluateBatch = i.evaluateBatchSize ?? 100;

  const requests = M / b;
  const apiGateway =
    requests * Math.max(1, Math.ceil((b * i.eventBytes) / prices.apiGatewayMeterBytes)) * (prices.apiGatewayHttpPerMillion / M);

  const call = i.callMs ?? ASSUMED_CALL_MS;
  const sendCalls = Math.ceil(b / SQS_SEND_BATCH);
  const collectMs = Math.ceil(i.collectCpuMs + sendCalls * call.sqsSendBatch);
  const pipelineMsPerEvent =
    i.dynamoCallsPerEvent * call.dynamo + (i.busEventsPerEvent > 0 ? Math.min(1, i.busEventsPerEvent) * call.eventBridgePut : 0);
  const invocations = requests + M / stitchBatch + M / evaluateBatch;
  const gbSeconds = requests * (collectMs / 1000) * gb + M * (pipelineMsPerEvent / 1000) * gb;
  const lambda = invocations * (prices.lambdaPerMillionRequests / M) + gbSeconds * prices.lambdaArmPerGbSecond;

  // One event per message: collect sends ceil(b / 10) SendMessageBatch calls per request, each
  // billed per 64 KB chunk; stitch's event source receives a batch 10 messages per
  // ReceiveMessage (each billed per 64 KB chunk) and deletes it 10 per DeleteMessageBatch.
  const perSendChunks = Math.max(1, Math.ceil((Math.min(b, SQS_SEND_BATCH) * i.eventBytes) / prices.sqsChunkBytes));
  const perReceiveChunks = Math.max(1, Math.ceil((SQS_SEND_BATCH * i.eventBytes) / prices.sqsChunkBytes));
  const sqsRequests = requests * sendCalls * perSendChunks + (M / SQS_SEND_BATCH) * (perReceiveChunks + 1);
  const sqs = sqsRequests * (prices.sqsPerMillionRequests / M);

  const dynamodb = M * (i.wruPerEvent * (prices.dynamoPerMillionWru / M) + i.rruPerEvent * (prices.dynamoPerMillionRru / M));
  const eventBridge = M * i.busEventsPerEvent * (prices.eventBridgePerMillion / M);
  const byService = { apiGateway, lambda, sqs, dynamodb, eventBridge, secretsManager: 0 };
  const total = Object.values(byService).reduce((s, v) => s + v, 0);
  return { batchSize: b, byService, total };
}

/** The floor: the same pipeline storing each event once (one PutItem, 1 WRU) and reading nothing. */
export function floorInputs(i: CostInputs): CostInputs {
  return { ...i, wruPerEvent: 1, rruPerEvent: 0, dynamoCallsPerEvent: 1 };
}
