/**
 * stitch: consumes the event queue. Each message is one accepted event; each is resolved to a
 * profile and stored. Failed messages are reported individually so SQS redelivers only them
 * (and moves them to the dead-letter queue after the redrive limit).
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { ScherpEvent } from '../../core/events';
import type { ProfileStore } from '../../app/ports';
import { NoIdentifierError, stitch } from '../../app/stitch';
import type { ScherpConfig } from '../../core/config';
import { scherpConfig } from '../shared/config';
import { profileStore } from '../shared/dynamo';
import { errorFields, flushMetrics, logger, metrics, MetricUnit } from '../shared/observability';

export interface StitchDeps {
  readonly store: ProfileStore;
  readonly config: ScherpConfig;
}

export function createStitchHandler(deps: () => StitchDeps) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    let stored = 0;
    let duplicates = 0;
    let dropped = 0;
    for (const record of event.Records) {
      try {
        const e = JSON.parse(record.body) as ScherpEvent;
        const r = await stitch(deps().store, e, { identity: deps().config.identity });
        if (r.duplicate) duplicates++;
        else stored++;
        dropped += r.dropped.length;
        if (r.merged.length > 0) logger.info('profiles merged', { profileId: r.profileId, merged: r.merged.length, messageId: e.messageId });
        if (r.dropped.length > 0) logger.info('identifiers dropped by merge protection', { profileId: r.profileId, messageId: e.messageId, dropped: r.dropped.map((d) => `${d.id.type}:${d.reason}`) });
      } catch (err) {
        if (err instanceof NoIdentifierError) {
          // Retrying cannot give it an identifier: drop it (ids only in the log).
          logger.warn('event without a usable identifier dropped', { messageId: record.messageId });
          metrics.addMetric('EventsWithoutIdentifier', MetricUnit.Count, 1);
          continue;
        }
        logger.warn('stitch failed; the message will be retried', { messageId: record.messageId, ...errorFields(err) });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    metrics.addMetric('EventsStored', MetricUnit.Count, stored);
    if (duplicates > 0) metrics.addMetric('EventsDuplicate', MetricUnit.Count, duplicates);
    if (dropped > 0) metrics.addMetric('IdentifiersDropped', MetricUnit.Count, dropped);
    if (failures.length > 0) metrics.addMetric('StitchFailures', MetricUnit.Count, failures.length);
    flushMetrics();
    return { batchItemFailures: failures };
  };
}

export const handler = createStitchHandler(() => ({ store: profileStore(), config: scherpConfig() }));
