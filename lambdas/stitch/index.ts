/**
 * stitch: consumes the event queue. Each message is one accepted event; each is deduplicated,
 * resolved to a profile and stored (app/process-event.ts). Failed messages are reported
 * individually so SQS redelivers only them; on the last receive the handler moves a failing
 * message to the dead-letter queue itself, with the reason.
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetterSink } from '../../app/dead-letters';
import type { MessageLog, ProfileStore, StatsStore } from '../../app/ports';
import { recordTally } from '../../app/stats';
import { tallyEvent, type Tally } from '../../core/stats';
import { connectedKeys, forEachByKey } from '../../app/batch';
import { processEvent } from '../../app/process-event';
import { NoIdentifierError, SuppressedIdentifierError } from '../../app/stitch';
import type { ScherpConfig } from '../../core/config';
import type { ScherpEvent } from '../../core/events';
import { DEFAULT_STITCH_TIMEOUT_SECONDS } from '../../core/stitch-bound';
import { SqsDeadLetters } from '../../adapters/sqs-dead-letters';
import { scherpConfig } from '../shared/config';
import { messageLog, profileStore, statsStore } from '../shared/dynamo';
import { ENV, optionalEnv } from '../shared/env';
import { lazy } from '../shared/lazy';
import { errorFields, flushMetrics, logger, metrics, MetricUnit } from '../shared/observability';

export interface StitchDeps {
  readonly store: ProfileStore;
  readonly config: ScherpConfig;
  /** Drops repeats of a (source, messageId) within the dedupe window (see app/dedupe.ts). */
  readonly messages?: MessageLog;
  /**
   * On a message's last receive, the handler moves it here with the reason instead of failing it
   * once more, so the dead letter says why. Without it the queue's redrive policy dead-letters it.
   */
  readonly deadLetters?: { readonly sink: DeadLetterSink; readonly maxReceives: number };
  /** The Overview's counters: events by hour, type and name, merges; one update per batch per hour (`core/stats.ts`). */
  readonly stats?: StatsStore;
}

/** Records processed at the same time within one invocation. */
const STITCH_CONCURRENCY = 8;

/** The ids a record's event carries (none for an unreadable body). */
function senderIds(record: SQSRecord): string[] {
  try {
    const e = JSON.parse(record.body) as Partial<ScherpEvent>;
    // An alias's previousId is a former userId or anonymousId: it groups with the events of either.
    return [
      e.anonymousId && `a:${e.anonymousId}`,
      e.userId && `u:${e.userId}`,
      e.previousId && `u:${e.previousId}`,
      e.previousId && `a:${e.previousId}`,
    ].filter((x): x is string => !!x);
  } catch {
    return [];
  }
}

function reasonOf(err: unknown): string {
  const e = err as { name?: string; message?: string };
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`.slice(0, 1000);
}

export function createStitchHandler(deps: () => StitchDeps) {
  return async (event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> => {
    // No event stored after the invocation's time is up (Lambda ends it then; locally nothing
    // would): the bound a split's final settle pass waits for (`core/stitch-bound.ts`).
    const deadline = Date.now() + (context?.getRemainingTimeInMillis() ?? DEFAULT_STITCH_TIMEOUT_SECONDS * 1000);
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    const counts = { stored: 0, duplicates: 0, repeats: 0, dropped: 0, merged: 0 };
    const tally: Tally = new Map();
    const handle = async (record: SQSRecord) => {
      try {
        const e = JSON.parse(record.body) as ScherpEvent;
        const { store, messages, config } = deps();
        const r = await processEvent(
          { store, messages, identity: config.identity, traits: config.traits, suppressErased: config.privacy.suppressErased, deadline },
          e,
        );
        if (r.duplicate) counts.duplicates++;
        else {
          counts.stored++;
          tallyEvent(tally, e, r.merged.length, r.created === true);
        }
        if (r.repeat) counts.repeats++;
        counts.dropped += r.dropped.length;
        counts.merged += r.merged.length;
        if (r.merged.length > 0)
          logger.info('profiles merged', { profileId: r.profileId, merged: r.merged.length, messageId: e.messageId });
        if (r.dropped.length > 0)
          logger.info('identifiers dropped by merge protection', {
            profileId: r.profileId,
            messageId: e.messageId,
            dropped: r.dropped.map((d) => `${d.id.type}:${d.reason}`),
          });
      } catch (err) {
        if (err instanceof NoIdentifierError) {
          // Retrying cannot give it an identifier: drop it (ids only in the log).
          logger.warn('event without a usable identifier dropped', { messageId: record.messageId });
          metrics.addMetric('EventsWithoutIdentifier', MetricUnit.Count, 1);
          return;
        }
        if (err instanceof SuppressedIdentifierError) {
          // The person was erased: their later events are dropped like events without identifier.
          logger.info('event with an erased identifier dropped', { messageId: record.messageId });
          metrics.addMetric('EventsSuppressed', MetricUnit.Count, 1);
          return;
        }
        if (await deadLetter(deps(), record, err)) return;
        logger.warn('stitch failed; the message will be retried', { messageId: record.messageId, ...errorFields(err) });
        failures.push({ itemIdentifier: record.messageId });
      }
    };
    // One person's events in order; different people side by side (DynamoDB calls are I/O).
    const groups = connectedKeys(event.Records, senderIds);
    await forEachByKey(event.Records, (r) => groups.get(r)!, STITCH_CONCURRENCY, handle);
    await recordTally(deps().stats, tally, (err) => logger.warn('counters not updated', errorFields(err)));
    metrics.addMetric('EventsStored', MetricUnit.Count, counts.stored);
    if (counts.duplicates > 0) metrics.addMetric('EventsDuplicate', MetricUnit.Count, counts.duplicates);
    if (counts.repeats > 0) metrics.addMetric('MessagesRepeated', MetricUnit.Count, counts.repeats);
    if (counts.dropped > 0) metrics.addMetric('IdentifiersDropped', MetricUnit.Count, counts.dropped);
    if (counts.merged > 0) metrics.addMetric('ProfilesMerged', MetricUnit.Count, counts.merged);
    if (failures.length > 0) metrics.addMetric('StitchFailures', MetricUnit.Count, failures.length);
    flushMetrics();
    return { batchItemFailures: failures };
  };
}

/** Moves a message on its last receive to the dead-letter sink; false if it must be failed instead. */
async function deadLetter(deps: StitchDeps, record: SQSRecord, err: unknown): Promise<boolean> {
  const dl = deps.deadLetters;
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? 0);
  if (!dl || receiveCount < dl.maxReceives) return false;
  try {
    await dl.sink.put({ queueMessageId: record.messageId, body: record.body, reason: reasonOf(err), receiveCount });
  } catch (sinkErr) {
    logger.error('dead-letter sink failed; leaving the message to the queue redrive policy', errorFields(sinkErr));
    return false;
  }
  metrics.addMetric('EventsDeadLettered', MetricUnit.Count, 1);
  logger.error('message dead-lettered', { messageId: record.messageId, receiveCount, ...errorFields(err) });
  return true;
}

const cloudDeps = lazy((): StitchDeps => {
  const dlqUrl = optionalEnv(ENV.DEAD_LETTER_QUEUE_URL);
  return {
    store: profileStore(),
    config: scherpConfig(),
    messages: messageLog(),
    stats: statsStore(),
    deadLetters: dlqUrl
      ? {
          sink: new SqsDeadLetters(new SQSClient({}), { deadLetterQueueUrl: dlqUrl }),
          maxReceives: Number(optionalEnv(ENV.MAX_RECEIVE_COUNT) ?? 5),
        }
      : undefined,
  };
});

export const handler = createStitchHandler(cloudDeps);
