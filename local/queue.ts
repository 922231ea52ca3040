/**
 * A local stand-in for SQS with the semantics `stitch` relies on: batches, a visibility timeout,
 * redelivery of the messages a batch reports as failed, and a dead-letter queue after
 * `maxReceives` receives.
 */
import { DEFAULT_STITCH_BATCH_SIZE } from '../core/ingest';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { ScherpEvent } from '../core/events';
import type { CopyStore, ErasureSubject, EventQueue } from '../app/ports';
import { lineNames } from './jsonl';
import { PollLoop } from './poll-loop';
import { QueueJournal } from './queue-journal';

/** Receives before a message is dead-lettered, as SQS's maxReceiveCount. */
export const DEFAULT_MAX_RECEIVES = 5;

export interface LocalQueueOptions {
  /** Messages per handler call. @default 10 */
  readonly batchSize?: number;
  /** How often the consumer looks for visible messages, in ms. @default 25 */
  readonly pollMs?: number;
  /** How long a failed message stays invisible before redelivery, in ms. @default 200 */
  readonly retryDelayMs?: number;
  /** Receives before a message moves to the dead-letter queue. @default 5 */
  readonly maxReceives?: number;
  /** Called with each message that moves to the dead-letter queue. */
  readonly onDeadLetter?: (letter: DeadLetter) => void;
  /** Keep the queue in this journal file so it survives a crash (see queue-journal.ts). */
  readonly journalFile?: string;
  /** Fault injection: deliver this processed message once more (SQS is at-least-once). */
  readonly duplicate?: () => boolean;
}

interface Message {
  readonly id: string;
  readonly body: string;
  readonly sentAt: number;
  receiveCount: number;
  visibleAt: number;
}

export interface DeadLetter {
  readonly messageId: string;
  readonly body: string;
  readonly receiveCount: number;
  readonly reason: string;
  readonly at: string;
}

export type SqsHandler = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

export class LocalQueue implements EventQueue, CopyStore {
  readonly name = 'queue.jsonl';
  private readonly messages: Message[] = [];
  readonly deadLetters: DeadLetter[] = [];

  private readonly loop: PollLoop;
  private readonly opts: Required<Omit<LocalQueueOptions, 'onDeadLetter' | 'journalFile' | 'duplicate'>> &
    Pick<LocalQueueOptions, 'onDeadLetter' | 'duplicate'>;
  private readonly journal: QueueJournal | undefined;

  constructor(opts: LocalQueueOptions = {}) {
    this.opts = { batchSize: DEFAULT_STITCH_BATCH_SIZE, pollMs: 25, retryDelayMs: 200, maxReceives: DEFAULT_MAX_RECEIVES, ...opts };
    this.loop = new PollLoop(this.opts.pollMs);
    this.journal = opts.journalFile ? new QueueJournal(opts.journalFile) : undefined;
    const now = Date.now();
    for (const m of this.journal?.open() ?? []) this.messages.push({ ...m, receiveCount: 0, visibleAt: now });
  }

  async send(events: readonly ScherpEvent[]): Promise<void> {
    await this.sendBodies(events.map((e) => JSON.stringify(e)));
  }

  /** Queues raw message bodies (used by dead-letter redrive too). Durable when journaled. */
  async sendBodies(bodies: readonly string[]): Promise<void> {
    const now = Date.now();
    if (!this.journal) {
      // In memory (collect's hot path): each message built once.
      for (const body of bodies) this.messages.push({ id: randomUUID(), body, sentAt: now, receiveCount: 0, visibleAt: now });
      return;
    }
    const msgs = bodies.map((body) => ({ id: randomUUID(), body, sentAt: now }));
    this.journal.appendSends(msgs);
    for (const m of msgs) this.messages.push({ ...m, receiveCount: 0, visibleAt: now });
  }

  /** Messages not yet deleted (visible or in flight). */
  get depth(): number {
    return this.messages.length;
  }

  /** Messages waiting and messages being processed (as SQS's approximate counts). */
  counts(): { visible: number; inFlight: number } {
    const inFlight = this.messages.filter((m) => m.visibleAt === Number.POSITIVE_INFINITY).length;
    return { visible: this.messages.length - inFlight, inFlight };
  }

  /** Starts delivering batches to the handler. */
  start(handler: SqsHandler): void {
    this.loop.start(() => this.drainOnce(handler));
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    this.journal?.close();
  }

  /** Delivers every visible message once, in batches; returns how many were delivered. */
  async drainOnce(handler: SqsHandler): Promise<number> {
    let delivered = 0;
    for (;;) {
      const now = Date.now();
      const batch = this.messages.filter((m) => m.visibleAt <= now).slice(0, this.opts.batchSize);
      if (batch.length === 0) return delivered;
      delivered += batch.length;
      for (const m of batch) {
        m.receiveCount++;
        m.visibleAt = Number.POSITIVE_INFINITY; // in flight
      }
      let failed: Set<string>;
      let reason = 'reported as failed by the handler';
      try {
        const res = await handler({ Records: batch.map((m) => toRecord(m)) });
        failed = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      } catch (err) {
        failed = new Set(batch.map((m) => m.id));
        reason = `handler threw: ${(err as Error).message}`;
      }
      const gone: string[] = [];
      for (const m of batch) {
        if (!failed.has(m.id)) {
          this.remove(m);
          gone.push(m.id);
          if (this.opts.duplicate?.())
            this.messages.push({ id: randomUUID(), body: m.body, sentAt: m.sentAt, receiveCount: 0, visibleAt: Date.now() });
        } else if (m.receiveCount >= this.opts.maxReceives) {
          this.deadLetter(m, reason);
          gone.push(m.id);
        } else m.visibleAt = Date.now() + this.opts.retryDelayMs;
      }
      this.journal?.appendDeletes(gone, () => this.messages);
    }
  }

  /**
   * Erasure: drops the queued messages naming the subject (an erased person's events would be
   * dropped by stitch anyway) and compacts the journal, so neither they nor the bodies of
   * messages already processed stay in it. Returns how many queued messages were dropped.
   */
  async eraseSubject(subject: ErasureSubject): Promise<number> {
    const doomed = this.messages.filter((m) => lineNames(m.body, subject));
    for (const m of doomed) this.remove(m);
    this.journal?.compact(this.messages);
    return doomed.length;
  }

  private remove(m: Message): void {
    const i = this.messages.indexOf(m);
    if (i >= 0) this.messages.splice(i, 1);
  }

  private deadLetter(m: Message, reason: string): void {
    this.remove(m);
    const letter: DeadLetter = { messageId: m.id, body: m.body, receiveCount: m.receiveCount, reason, at: new Date().toISOString() };
    this.deadLetters.push(letter);
    this.opts.onDeadLetter?.(letter);
  }
}

/** A queued message as Lambda's SQS event source delivers it. */
export function toRecord(m: Pick<Message, 'id' | 'body' | 'receiveCount' | 'sentAt'>, queueName = 'scherp-events'): SQSRecord {
  return {
    messageId: m.id,
    receiptHandle: `${m.id}:${m.receiveCount}`,
    body: m.body,
    attributes: {
      ApproximateReceiveCount: String(m.receiveCount),
      SentTimestamp: String(m.sentAt),
      SenderId: 'scherp-local',
      ApproximateFirstReceiveTimestamp: String(m.sentAt),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:local:000000000000:${queueName}`,
    awsRegion: 'local',
  };
}
