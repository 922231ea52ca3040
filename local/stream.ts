/**
 * Feeds `evaluate` from DynamoDB Local's real stream API, as Lambda's event source mapping does
 * in the cloud: records of a shard in order, in batches, filtered to newly inserted timeline
 * events, retried from the failed record, and after `maxRetries` given up to `onFailure` with
 * what the mapping's on-failure destination gets: the shard and sequence numbers, not the
 * record (evaluate notes the record's key in the table itself). Like the mapping, no age limit
 * unless `maxRecordAgeMs` is given; then older records go to `onFailure` unevaluated.
 */
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { EVENT_SK_PREFIX, MERGE_SK_PREFIX } from '../adapters/dynamo/keys';
import { PollLoop } from './poll-loop';

export type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;

export interface StreamPollerOptions {
  readonly streamArn: string;
  /** Where to start in shards with no checkpoint. */
  readonly startAt: 'TRIM_HORIZON' | 'LATEST';
  /** How often each shard is read, in ms. @default 50 */
  readonly pollMs?: number;
  /** Records per handler call. @default 100 */
  readonly batchSize?: number;
  /** Retries of a failing record before it goes to `onFailure`. @default 5 */
  readonly maxRetries?: number;
  /** Last processed sequence number per shard, to resume after a restart. */
  readonly checkpoints?: Record<string, string>;
  readonly onCheckpoint?: (checkpoints: Record<string, string>) => void;
  readonly onFailure?: (failure: StreamBatchFailure) => void;
  /** Records older than this go to `onFailure` without being evaluated (the mapping's `MaximumRecordAgeInSeconds`). @default no limit */
  readonly maxRecordAgeMs?: number;
  readonly now?: () => number;
  /** Fault injection: deliver this handled batch once more (stream delivery is at-least-once). */
  readonly duplicate?: () => boolean;
}

/** What the mapping sends its on-failure destination (`DDBStreamBatchInfo`, no records). */
export interface StreamBatchFailure {
  readonly requestContext: { readonly condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded'; readonly reason: string };
  readonly DDBStreamBatchInfo: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly approximateArrivalOfFirstRecord?: string;
    readonly batchSize: number;
    readonly streamArn: string;
  };
}

/** The cloud's event filter: INSERTs of timeline items (`sk` begins with `EV#`) and merge records (`MERGE#`). */
export function isTimelineInsert(r: StreamRecord): boolean {
  const sk = r.dynamodb?.Keys?.sk?.S ?? '';
  return r.eventName === 'INSERT' && (sk.startsWith(EVENT_SK_PREFIX) || sk.startsWith(MERGE_SK_PREFIX));
}

/** Binary attributes reach Lambda as base64 text; make local records look the same. */
function lambdaImage(img: Record<string, AttributeValue> | undefined): Record<string, unknown> | undefined {
  if (!img) return undefined;
  const conv = (v: AttributeValue): unknown => {
    if (v.B !== undefined) return { B: Buffer.from(v.B).toString('base64') };
    if (v.BS !== undefined) return { BS: v.BS.map((b) => Buffer.from(b).toString('base64')) };
    if (v.M !== undefined) return { M: Object.fromEntries(Object.entries(v.M).map(([k, x]) => [k, conv(x)])) };
    if (v.L !== undefined) return { L: v.L.map(conv) };
    return v;
  };
  return Object.fromEntries(Object.entries(img).map(([k, v]) => [k, conv(v)]));
}

export function toLambdaRecord(r: StreamRecord, streamArn: string): DynamoDBRecord {
  return {
    eventID: r.eventID,
    eventName: r.eventName as DynamoDBRecord['eventName'],
    eventVersion: r.eventVersion,
    eventSource: 'aws:dynamodb',
    awsRegion: r.awsRegion ?? 'local',
    eventSourceARN: streamArn,
    dynamodb: {
      ApproximateCreationDateTime: r.dynamodb?.ApproximateCreationDateTime
        ? Math.floor(r.dynamodb.ApproximateCreationDateTime.getTime() / 1000)
        : undefined,
      Keys: lambdaImage(r.dynamodb?.Keys) as never,
      NewImage: lambdaImage(r.dynamodb?.NewImage) as never,
      SequenceNumber: r.dynamodb?.SequenceNumber,
      SizeBytes: r.dynamodb?.SizeBytes,
      StreamViewType: r.dynamodb?.StreamViewType as never,
    },
  };
}

interface ShardState {
  iterator?: string;
  /** Records read but not yet handled successfully. */
  pending: StreamRecord[];
  attempts: number;
  closed: boolean;
}

export class StreamPoller {
  private readonly shards = new Map<string, ShardState>();
  private readonly checkpoints: Record<string, string>;
  private readonly loop: PollLoop;
  private lastDescribe = 0;
  /** When the last poll that found nothing new and left nothing pending had started (ms epoch). */
  idleSince = 0;
  private readonly batchSize: number;
  private readonly maxRetries: number;

  constructor(
    private readonly client: DynamoDBStreamsClient,
    private readonly opts: StreamPollerOptions,
  ) {
    this.checkpoints = { ...(opts.checkpoints ?? {}) };
    this.loop = new PollLoop(opts.pollMs ?? 50);
    this.batchSize = opts.batchSize ?? 100;
    this.maxRetries = opts.maxRetries ?? 5;
  }

  start(handler: StreamHandler): void {
    this.loop.start(() => this.pollOnce(handler));
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async refreshShards(): Promise<void> {
    let start: string | undefined;
    do {
      const d = await this.client.send(new DescribeStreamCommand({ StreamArn: this.opts.streamArn, ExclusiveStartShardId: start }));
      for (const s of d.StreamDescription?.Shards ?? []) {
        if (!s.ShardId || this.shards.has(s.ShardId)) continue;
        this.shards.set(s.ShardId, { pending: [], attempts: 0, closed: false });
      }
      start = d.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    this.lastDescribe = Date.now();
  }

  private async iteratorFor(shardId: string): Promise<string | undefined> {
    const after = this.checkpoints[shardId];
    const res = await this.client.send(
      new GetShardIteratorCommand({
        StreamArn: this.opts.streamArn,
        ShardId: shardId,
        ...(after ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after } : { ShardIteratorType: this.opts.startAt }),
      }),
    );
    return res.ShardIterator;
  }

  /** Reads every shard once and hands new records to the handler. */
  async pollOnce(handler: StreamHandler): Promise<void> {
    const startedAt = Date.now();
    let read = 0;
    if (this.shards.size === 0 || Date.now() - this.lastDescribe > 1000) await this.refreshShards();
    for (const [shardId, st] of this.shards) {
      if (st.pending.length === 0 && !st.closed) {
        try {
          st.iterator ??= await this.iteratorFor(shardId);
          if (!st.iterator) {
            st.closed = true;
            continue;
          }
          const res = await this.client.send(new GetRecordsCommand({ ShardIterator: st.iterator, Limit: 1000 }));
          st.pending.push(...(res.Records ?? []));
          read += res.Records?.length ?? 0;
          st.iterator = res.NextShardIterator;
          if (!st.iterator) st.closed = true;
        } catch (err) {
          if (err instanceof ExpiredIteratorException || (err as { name?: string }).name === 'ExpiredIteratorException')
            st.iterator = undefined;
          else throw err;
        }
      }
      await this.deliver(shardId, st, handler);
    }
    if (read === 0 && [...this.shards.values()].every((st) => st.pending.length === 0)) this.idleSince = startedAt;
  }

  private checkpoint(shardId: string, seq: string | undefined): void {
    if (!seq) return;
    this.checkpoints[shardId] = seq;
    this.opts.onCheckpoint?.({ ...this.checkpoints });
  }

  private fail(shardId: string, bad: StreamRecord, condition: StreamBatchFailure['requestContext']['condition'], reason: string): void {
    const seq = bad.dynamodb?.SequenceNumber ?? '';
    this.opts.onFailure?.({
      requestContext: { condition, reason },
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: seq,
        endSequenceNumber: seq,
        approximateArrivalOfFirstRecord: bad.dynamodb?.ApproximateCreationDateTime?.toISOString(),
        batchSize: 1,
        streamArn: this.opts.streamArn,
      },
    });
    this.checkpoint(shardId, seq);
  }

  private async deliver(shardId: string, st: ShardState, handler: StreamHandler): Promise<void> {
    const maxAge = this.opts.maxRecordAgeMs;
    const now = this.opts.now ?? Date.now;
    while (st.pending.length > 0) {
      // Too old for the mapping: given up without evaluation (only with an age limit).
      const first = st.pending[0]!;
      const created = first.dynamodb?.ApproximateCreationDateTime?.getTime();
      if (maxAge !== undefined && created !== undefined && now() - created > maxAge) {
        st.pending.shift();
        if (isTimelineInsert(first)) this.fail(shardId, first, 'RecordAgeExceeded', `older than ${maxAge} ms`);
        else this.checkpoint(shardId, first.dynamodb?.SequenceNumber);
        continue;
      }
      const batch = st.pending.slice(0, this.batchSize);
      const matching = batch.filter(isTimelineInsert).map((r) => toLambdaRecord(r, this.opts.streamArn));
      let failedSeq: string | undefined;
      let reason = 'reported as failed by the handler';
      if (matching.length > 0) {
        try {
          const res = await handler({ Records: matching });
          failedSeq = res?.batchItemFailures?.[0]?.itemIdentifier;
        } catch (err) {
          failedSeq = matching[0]!.dynamodb!.SequenceNumber;
          reason = `handler threw: ${(err as Error).message}`;
        }
      }
      if (failedSeq === undefined && matching.length > 0 && this.opts.duplicate?.()) {
        await handler({ Records: matching }).catch(() => undefined);
      }
      if (failedSeq === undefined) {
        st.pending.splice(0, batch.length);
        st.attempts = 0;
        this.checkpoint(shardId, batch[batch.length - 1]!.dynamodb?.SequenceNumber);
        continue;
      }
      // Everything before the failed record is done; retry from it.
      const idx = st.pending.findIndex((r) => r.dynamodb?.SequenceNumber === failedSeq);
      const done = st.pending.splice(0, Math.max(0, idx));
      if (done.length > 0) this.checkpoint(shardId, done[done.length - 1]!.dynamodb?.SequenceNumber);
      st.attempts++;
      if (st.attempts > this.maxRetries) {
        this.fail(shardId, st.pending.shift()!, 'RetryAttemptsExhausted', reason);
        st.attempts = 0;
        continue;
      }
      return; // retry on the next tick
    }
  }
}
