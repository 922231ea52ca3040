/**
 * evaluate: consumes the table's stream, filtered to newly written timeline events, runs the
 * rules and puts the actions that fire on the bus. Records are handled in order; on a failure
 * the handler reports that record so the stream retries from it (and bisects, then sends it to
 * the failure destination after the retry limit). Also invoked by EventBridge Scheduler with
 * `{ scherpDelayed: job }` to re-check a delayed action (a failure throws, so Scheduler retries).
 *
 * No record is dropped unevaluated: the mapping has no age limit, and a record that fails is
 * also noted in the table with its item's key (adapters/dynamo/evaluation-failures.ts), because
 * the failure queue only gets sequence numbers. Invoked with `{ scherpReplayFailures: {} }` it
 * evaluates every noted record again from its item and clears the notes that succeed.
 */
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { evaluateEvent, runDelayed, type EvaluateDeps } from '../../app/evaluate';
import { cachedRuleSet } from '../../app/rules';
import { decodeEvent, profileIdOf } from '../../adapters/dynamo/event-codec';
import { announceMerge } from '../../app/merges';
import { combineMerged, combineMergedConsent } from '../../app/computed';
import { ComputedBatch, ComputedFlushError } from '../../app/computed-batch';
import type { StreamPosition } from '../../core/computed';
import { leaveMergedAudiences } from '../../app/audiences';
import { DynamoComputedStore } from '../../adapters/dynamo/computed-store';
import { scherpConfig } from '../shared/config';
import type { MergeRecord } from '../../core/profile';
import { EVENT_SK_PREFIX, MERGE_SK_PREFIX, SPLIT_DONE_SK_PREFIX } from '../../adapters/dynamo/keys';
import { announceSplit } from '../../app/split-announce';
import type { SplitRecord } from '../../core/identity-graph';
import { fromMergeRecordItem, type MergeRecordItem } from '../../adapters/dynamo/profile-store';
import { DynamoHistoryStore } from '../../adapters/dynamo/history-store';
import { DynamoPersonalizationStore } from '../../adapters/dynamo/personalization-store';
import { DynamoRuleStore } from '../../adapters/dynamo/rule-store';
import { EventBridgeBus } from '../../adapters/eventbridge-bus';
import { EventBridgeScheduler, isDelayedInvocation, type DelayedInvocation } from '../../adapters/eventbridge-scheduler';
import { dynamo, profileStore, statsStore, tableName } from '../shared/dynamo';
import { DynamoEvaluationFailures } from '../../adapters/dynamo/evaluation-failures';
import { replayFailures, type ReplayResult } from '../../app/replay-failures';
import { ENV, optionalEnv, requireEnv } from '../shared/env';
import { lazy } from '../shared/lazy';
import { errorFields, flushMetrics, logger, metrics, MetricUnit } from '../shared/observability';
import { tallyAction, type Tally } from '../../core/stats';
import { DETAIL_TYPES } from '../../core/rules/contract';
import { recordTally } from '../../app/stats';
import type { BusEntry } from '../../app/ports';

/** Counts the actions fired, by rule, into the batch's tally (the Overview). */
function tallyActions(tally: Tally, entries: readonly BusEntry[], at: string): void {
  for (const e of entries)
    if (e.detailType === DETAIL_TYPES.actionTriggered && typeof e.detail.ruleId === 'string') tallyAction(tally, at, e.detail.ruleId);
}

/** The stored event and its profile, if the record is a new timeline event. */
export function timelineInsert(record: DynamoDBRecord): { profileId: string; item: { d: Uint8Array | string } } | undefined {
  if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return undefined;
  const item = unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>);
  if (typeof item.sk !== 'string' || !item.sk.startsWith(EVENT_SK_PREFIX)) return undefined;
  // An event a split moved to the partition of its side (`app/split.ts`): its rules ran when it arrived.
  if (item.mv !== undefined) return undefined;
  return { profileId: profileIdOf(item.pk as string), item: item as { d: Uint8Array | string } };
}

/** The merge record, if the record is a newly written one (the outbox of `Profile Merged`). */
export function mergeRecordInsert(record: DynamoDBRecord): MergeRecord | undefined {
  if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return undefined;
  const item = unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>);
  if (typeof item.sk !== 'string' || !item.sk.startsWith(MERGE_SK_PREFIX) || item.kind !== undefined) return undefined;
  return fromMergeRecordItem(item as MergeRecordItem);
}

/** A settled split's announcement record (the outbox of `Profile Split`, `app/split-announce.ts`). */
export function splitDoneInsert(record: DynamoDBRecord): SplitRecord | undefined {
  if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return undefined;
  const item = unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>);
  if (typeof item.sk !== 'string' || !item.sk.startsWith(SPLIT_DONE_SK_PREFIX) || item.kind !== 'split-done') return undefined;
  return JSON.parse(item.rec as string) as SplitRecord;
}

/** Where failed stream records are noted, and read back for a replay. */
export type EvaluationFailureLog = Pick<DynamoEvaluationFailures, 'record' | 'list' | 'streamRecord' | 'remove'>;

/** The payload that replays the noted failures. */
export interface ReplayInvocation {
  readonly scherpReplayFailures: Record<string, never>;
}

function isReplayInvocation(e: unknown): e is ReplayInvocation {
  return typeof e === 'object' && e !== null && typeof (e as ReplayInvocation).scherpReplayFailures === 'object';
}

/** The function's own ARN, learned from the invocation context (the target of delayed actions). */
let selfArn: string | undefined;

/** Where a stream record sits: its item's partition (a profile id) and its sequence number. */
function positionOf(record: DynamoDBRecord, partition: string): StreamPosition | undefined {
  const seq = record.dynamodb?.SequenceNumber;
  return seq && /^\d+$/.test(seq) ? { partition, seq } : undefined;
}

export function createEvaluateHandler(deps: () => EvaluateDeps, failureLog?: () => EvaluationFailureLog) {
  /**
   * Evaluates one stream record (a merge record, a timeline event, or nothing to do); the number
   * of actions published. `batchDeps`: the stream batch's (computed traits staged in it, and the
   * record's stream position used to apply it once); a replay passes none.
   */
  const evaluateRecord = async (record: DynamoDBRecord, tally?: Tally, batchDeps?: EvaluateDeps): Promise<number> => {
    let actions = 0;
    const merge = mergeRecordInsert(record);
    if (merge) {
      const d = batchDeps ?? deps();
      if (d.computed) await combineMerged(d.computed, d.store, merge, batchDeps && positionOf(record, merge.profileId));
      await combineMergedConsent(d.parts, d.store, merge);
      await leaveMergedAudiences(d.parts, merge);
      actions += await announceMerge(d.bus, merge);
    }
    const split = splitDoneInsert(record);
    if (split) actions += (await announceSplit(deps(), split)).length;
    const insert = timelineInsert(record);
    if (insert) {
      const fired = await evaluateEvent(
        batchDeps ?? deps(),
        insert.profileId,
        decodeEvent(insert.item),
        batchDeps && positionOf(record, insert.profileId),
      );
      if (tally) tallyActions(tally, fired, new Date().toISOString());
      actions += fired.length;
    }
    return actions;
  };

  async function replay(): Promise<ReplayResult> {
    const log = failureLog?.();
    if (!log) return { replayed: 0, gone: 0, failed: 0 };
    const result = await replayFailures(log, evaluateRecord, (f, err) =>
      logger.warn('replayed record failed again; its note is kept', { sequenceNumber: f.sequenceNumber, ...errorFields(err) }),
    );
    logger.info('evaluation failures replayed', { ...result });
    return result;
  }

  function handler(event: ReplayInvocation, context?: Pick<Context, 'invokedFunctionArn'>): Promise<ReplayResult>;
  function handler(
    event: DynamoDBStreamEvent | DelayedInvocation,
    context?: Pick<Context, 'invokedFunctionArn'>,
  ): Promise<DynamoDBBatchResponse>;
  async function handler(
    event: DynamoDBStreamEvent | DelayedInvocation | ReplayInvocation,
    context?: Pick<Context, 'invokedFunctionArn'>,
  ): Promise<DynamoDBBatchResponse | ReplayResult> {
    selfArn ??= context?.invokedFunctionArn;
    if (isReplayInvocation(event)) return replay();
    let actions = 0;
    if (isDelayedInvocation(event)) {
      try {
        actions = (await runDelayed(deps(), event.scherpDelayed)).length;
        return { batchItemFailures: [] };
      } catch (err) {
        logger.warn('delayed action failed; the scheduler retries it', { ruleId: event.scherpDelayed.ruleId, ...errorFields(err) });
        throw err;
      } finally {
        if (actions > 0) metrics.addMetric('ActionsPublished', MetricUnit.Count, actions);
        flushMetrics();
      }
    }
    const tally: Tally = new Map();
    // Computed traits: one write per profile per batch, exactly once (app/computed-batch.ts).
    const base = deps();
    const batch = base.computed ? new ComputedBatch(base.computed.store, base.computed.defs) : undefined;
    const batchDeps: EvaluateDeps = batch && base.computed ? { ...base, computed: { ...base.computed, batch } } : base;
    /** Writes the batch's computed traits; the index of the first record to retry when that fails. */
    const flush = async (): Promise<{ index: number; err: unknown } | undefined> => {
      try {
        await batch?.flush();
        return undefined;
      } catch (err) {
        return { index: err instanceof ComputedFlushError ? err.firstRecord : 0, err };
      }
    };
    const fail = async (index: number, err: unknown): Promise<DynamoDBBatchResponse> => {
      const record = event.Records[index]!;
      logger.warn('evaluate failed; the stream retries from this record', {
        sequenceNumber: record.dynamodb?.SequenceNumber,
        ...errorFields(err),
      });
      // Noted with its key, so the record can be replayed even after the stream has let it go.
      await failureLog?.()
        .record(record, (err as Error)?.message ?? String(err))
        .catch((e: unknown) =>
          logger.error('could not note the failed record', { sequenceNumber: record.dynamodb?.SequenceNumber, ...errorFields(e) }),
        );
      return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
    };
    try {
      for (const [i, record] of event.Records.entries()) {
        if (batch) batch.record = i;
        try {
          actions += await evaluateRecord(record, tally, batchDeps);
        } catch (err) {
          // What the records before it (and it) changed is written first; a failed write retries from its record.
          const f = await flush();
          return f && f.index < i ? fail(f.index, f.err) : fail(i, err);
        }
      }
      const f = await flush();
      return f ? fail(f.index, f.err) : { batchItemFailures: [] };
    } finally {
      // One counter update per batch (per hour it spans), best effort; also for a batch cut short.
      await recordTally(deps().stats, tally, (err) => logger.warn('counters not updated', errorFields(err)));
      if (actions > 0) metrics.addMetric('ActionsPublished', MetricUnit.Count, actions);
      flushMetrics();
    }
  }
  return handler;
}

/** Metrics and logs (ids and counts only) for rule errors and held-back actions. */
export const ruleObservers: Pick<EvaluateDeps, 'onRuleError' | 'onSkipped'> = {
  onRuleError: (ruleId, err) => {
    metrics.addMetric('RuleErrors', MetricUnit.Count, 1);
    logger.error('rule failed during evaluation', { ruleId, ...errorFields(err) });
  },
  onSkipped: (ruleId, reason) => {
    metrics.addMetric(reason === 'consent' ? 'ActionsSkippedNoConsent' : 'ActionsSkipped', MetricUnit.Count, 1);
    logger.debug('action held back', { ruleId, reason });
  },
};

const cloudDeps = lazy(
  (): EvaluateDeps => ({
    store: profileStore(),
    reader: profileStore(),
    stats: statsStore(),
    bus: new EventBridgeBus(new EventBridgeClient({}), requireEnv(ENV.EVENT_BUS_NAME)),
    rules: cachedRuleSet(new DynamoRuleStore(dynamo(), tableName()), {
      onInvalid: (id, err) => logger.error('stored rule is invalid and skipped', { ruleId: String(id), ...errorFields(err) }),
    }),
    parts: new DynamoPersonalizationStore(dynamo(), tableName()),
    history: new DynamoHistoryStore(dynamo(), tableName()),
    computed: { store: new DynamoComputedStore(dynamo(), tableName()), defs: scherpConfig().computed },
    scheduler: new EventBridgeScheduler(new SchedulerClient({}), {
      targetArn: () => {
        if (!selfArn) throw new Error('the function ARN is not known yet');
        return selfArn;
      },
      roleArn: requireEnv(ENV.SCHEDULER_ROLE_ARN),
      groupName: optionalEnv(ENV.SCHEDULER_GROUP_NAME),
      deadLetterArn: optionalEnv(ENV.SCHEDULER_DLQ_ARN),
    }),
    ...ruleObservers,
  }),
);

export const handler = createEvaluateHandler(
  cloudDeps,
  lazy(() => new DynamoEvaluationFailures(dynamo(), tableName())),
);
