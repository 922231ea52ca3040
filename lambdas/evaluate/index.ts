/**
 * evaluate: consumes the table's stream, filtered to newly written timeline events, runs the
 * rules and puts the actions that fire on the bus. Records are handled in order; on a failure
 * the handler reports that record so the stream retries from it (and bisects, then sends it to
 * the failure destination after the retry limit).
 */
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { evaluateEvent, type EvaluateDeps } from '../../app/evaluate';
import { announceMerge } from '../../app/merges';
import type { MergeRecord } from '../../core/profile';
import { cachedRuleSet } from '../../app/rules';
import { decodeEvent, profileIdOf } from '../../adapters/dynamo/event-codec';
import { EVENT_SK_PREFIX, MERGE_SK_PREFIX } from '../../adapters/dynamo/keys';
import { fromMergeRecordItem, type MergeRecordItem } from '../../adapters/dynamo/profile-store';
import { DynamoRuleStore } from '../../adapters/dynamo/rule-store';
import { EventBridgeBus } from '../../adapters/eventbridge-bus';
import { dynamo, profileStore, tableName } from '../shared/dynamo';
import { ENV, requireEnv } from '../shared/env';
import { lazy } from '../shared/lazy';
import { errorFields, flushMetrics, logger, metrics, MetricUnit } from '../shared/observability';

/** The stored event and its profile, if the record is a new timeline event. */
export function timelineInsert(record: DynamoDBRecord): { profileId: string; item: { d: Uint8Array | string } } | undefined {
  if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return undefined;
  const item = unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>);
  if (typeof item.sk !== 'string' || !item.sk.startsWith(EVENT_SK_PREFIX)) return undefined;
  return { profileId: profileIdOf(item.pk as string), item: item as { d: Uint8Array | string } };
}

/** The merge record, if the record is a newly written one (the outbox of `Profile Merged`). */
export function mergeRecordInsert(record: DynamoDBRecord): MergeRecord | undefined {
  if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return undefined;
  const item = unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>);
  if (typeof item.sk !== 'string' || !item.sk.startsWith(MERGE_SK_PREFIX)) return undefined;
  return fromMergeRecordItem(item as MergeRecordItem);
}

export function createEvaluateHandler(deps: () => EvaluateDeps) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    let actions = 0;
    try {
      for (const record of event.Records) {
        try {
          const merge = mergeRecordInsert(record);
          if (merge) actions += await announceMerge(deps().bus, merge);
          const insert = timelineInsert(record);
          if (!insert) continue;
          const published = await evaluateEvent(deps(), insert.profileId, decodeEvent(insert.item));
          actions += published.length;
        } catch (err) {
          logger.warn('evaluate failed; the stream retries from this record', { sequenceNumber: record.dynamodb?.SequenceNumber, ...errorFields(err) });
          return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
        }
      }
      return { batchItemFailures: [] };
    } finally {
      if (actions > 0) metrics.addMetric('ActionsPublished', MetricUnit.Count, actions);
      flushMetrics();
    }
  };
}

const cloudDeps = lazy((): EvaluateDeps => ({
  store: profileStore(),
  bus: new EventBridgeBus(new EventBridgeClient({}), requireEnv(ENV.EVENT_BUS_NAME)),
  rules: cachedRuleSet(new DynamoRuleStore(dynamo(), tableName()), {
    onInvalid: (id, err) => logger.error('stored rule is invalid and skipped', { ruleId: String(id), ...errorFields(err) }),
  }),
  onRuleError: (ruleId, err) => {
    metrics.addMetric('RuleErrors', MetricUnit.Count, 1);
    logger.error('rule failed during evaluation', { ruleId, ...errorFields(err) });
  },
}));

export const handler = createEvaluateHandler(cloudDeps);
