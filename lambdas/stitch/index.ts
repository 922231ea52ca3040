/**
 * stitch: consumes the event queue. Each message is one accepted event; each is resolved to a
 * profile and stored. Failed messages are reported individually so SQS redelivers only them
 * (and moves them to the dead-letter queue after the redrive limit).
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { ScherpEvent } from '../../core/events';
import type { MessageLog, ProfileStore } from '../../app/ports';
import { stitch } from '../../app/stitch';
import { dedupe } from '../../app/dedupe';
import { messageLog, profileStore } from '../shared/dynamo';
import { errorFields, flushMetrics, logger, metrics, MetricUnit } from '../shared/observability';

export interface StitchDeps {
  readonly store: ProfileStore;
  /** Drops repeats of a (source, messageId) within the dedupe window (see app/dedupe.ts). */
  readonly messages?: MessageLog;
}

export function createStitchHandler(deps: () => StitchDeps) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    let stored = 0;
    let duplicates = 0;
    let repeats = 0;
    for (const record of event.Records) {
      try {
        let e = JSON.parse(record.body) as ScherpEvent;
        const messages = deps().messages;
        if (messages) {
          const d = await dedupe(messages, e);
          e = d.event;
          if (d.seen) repeats++;
        }
        const r = await stitch(deps().store, e);
        if (r.duplicate) duplicates++;
        else stored++;
        if (r.merged.length > 0) logger.info('profiles merged', { profileId: r.profileId, merged: r.merged.length, messageId: e.messageId });
      } catch (err) {
        logger.warn('stitch failed; the message will be retried', { messageId: record.messageId, ...errorFields(err) });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    metrics.addMetric('EventsStored', MetricUnit.Count, stored);
    if (duplicates > 0) metrics.addMetric('EventsDuplicate', MetricUnit.Count, duplicates);
    if (repeats > 0) metrics.addMetric('MessagesRepeated', MetricUnit.Count, repeats);
    if (failures.length > 0) metrics.addMetric('StitchFailures', MetricUnit.Count, failures.length);
    flushMetrics();
    return { batchItemFailures: failures };
  };
}

export const handler = createStitchHandler(() => ({ store: profileStore(), messages: messageLog() }));
