/**
 * Deduplication by (source, message id) within the dedupe window, run by `stitch` before an
 * event without a stated time is stitched (`app/process-event.ts`; an event with one is
 * deduplicated by its timeline key alone). The marker is written only after SQS accepted the event (collect never
 * marks anything), so a request that failed and is retried is never dropped.
 *
 * A message seen before keeps the timestamp of its first delivery: its timeline key
 * (`EV#<timestamp>#<messageId>`) is then the same, so stitching it again stores nothing new
 * (and completes the work if the first attempt died half-way).
 */
import type { ScherpEvent } from '../core/events';
import type { MessageLog } from './ports';

export interface DedupeResult {
  readonly event: ScherpEvent;
  /** The (source, message id) pair was seen before within the window. */
  readonly seen: boolean;
}

export async function dedupe(log: MessageLog, event: ScherpEvent): Promise<DedupeResult> {
  const first = await log.claim(event.sourceId, event.messageId, event.timestamp);
  if (first === undefined) return { event, seen: false };
  return { event: first === event.timestamp ? event : { ...event, timestamp: first }, seen: true };
}
