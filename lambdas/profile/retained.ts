/**
 * The stores of a deployed stack that erasure cannot reach, with what they may still hold about
 * an erased person and when that is gone: listed in every erasure answer (`notReached`). The
 * bounds are the stack's (construct props, passed as environment variables).
 */
import type { RetainedCopy } from '../../app/ports';
import { ENV, intEnv } from '../shared/env';

/** SQS retention of every queue the construct creates (the maximum). */
export const QUEUE_RETENTION_DAYS = 14;

export function cloudRetainedCopies(
  days: { archive: number; imports: number } = {
    archive: intEnv(ENV.ARCHIVE_RETENTION_DAYS, 30),
    imports: intEnv(ENV.IMPORT_RETENTION_DAYS, 30),
  },
): RetainedCopy[] {
  const queue = `${QUEUE_RETENTION_DAYS} days`;
  return [
    {
      store: 'EventBridge archive',
      holds: 'bus events about the person (user id, the email of email actions, hashed ids, action data)',
      expiresWithin: `${days.archive} days`,
    },
    {
      store: 'ingest dead-letter queue',
      holds: "events that failed processing (redriven, an erased person's events are dropped by the suppression list)",
      expiresWithin: queue,
    },
    { store: 'stream-failure queue', holds: 'timeline events whose evaluation failed', expiresWithin: queue },
    {
      store: 'delayed-actions and destinations dead-letter queues',
      holds: 'delayed jobs and bus events that could not be delivered',
      expiresWithin: queue,
    },
    {
      store: 'EventBridge Scheduler',
      holds: 'pending delayed actions (their trigger event); when due they find no profile and fire nothing',
      expiresWithin: 'the longest delay of your rules',
    },
    { store: 'import bucket', holds: 'dropped import files and their reports', expiresWithin: `${days.imports} days` },
  ];
}
