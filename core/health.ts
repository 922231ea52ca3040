/**
 * `GET /v1/health` (the console's Health page; served by the rules function): how deep each queue is and
 * what failed lately. Pure: the shapes (zod, also for the OpenAPI document) and the bounds.
 */
import * as z from 'zod';

/** `recentErrors` lists at most this many (newest first). */
export const MAX_RECENT_ERRORS = 50;

export const QueueHealthSchema = z.object({
  /** `ingest` (collect → stitch), `evaluate-stream-failures` (stream batches evaluate gave up on), `delayed-actions`. */
  name: z.string(),
  /** Messages waiting (SQS ApproximateNumberOfMessages). */
  visible: z.number().int(),
  /** Messages being processed (ApproximateNumberOfMessagesNotVisible). */
  inFlight: z.number().int(),
  /** Messages in its dead-letter queue (for a failure queue: the failures it holds). */
  deadLetters: z.number().int(),
});
export type QueueHealth = z.output<typeof QueueHealthSchema>;

export const RecentErrorSchema = z.object({
  /** ISO-8601. */
  at: z.string(),
  /** Which stage failed: `evaluate` (a stream record the rules could not be run on). */
  stage: z.string(),
  reason: z.string(),
  /** The stream record's sequence number (evaluate), for the replay (`scherpReplayFailures`). */
  sequenceNumber: z.string().optional(),
});
export type RecentError = z.output<typeof RecentErrorSchema>;

export const HealthResponseSchema = z.object({
  queues: z.array(QueueHealthSchema),
  /** Evaluation failures not yet replayed, newest first (read only when a failure queue holds messages). */
  recentErrors: z.array(RecentErrorSchema),
});
export type HealthResponse = z.output<typeof HealthResponseSchema>;

/** Whether any queue reports failures (then the failure markers are worth reading). */
export function hasFailures(queues: readonly QueueHealth[]): boolean {
  return queues.some((q) => q.deadLetters > 0);
}

/** The newest `limit` failures, newest first, as the API shows them (no profile keys). */
export function recentErrors(
  failures: readonly { readonly at: string; readonly reason: string; readonly sequenceNumber?: string }[],
  limit = MAX_RECENT_ERRORS,
): RecentError[] {
  return [...failures]
    .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0))
    .slice(0, limit)
    .map((f) => ({
      at: f.at,
      stage: 'evaluate',
      reason: f.reason,
      ...(f.sequenceNumber !== undefined ? { sequenceNumber: f.sequenceNumber } : {}),
    }));
}
