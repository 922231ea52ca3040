/**
 * Dead letters on SQS: the consumer sends a message it gives up on to the dead-letter queue with
 * its reason as a message attribute; operators list them and redrive them (all with a
 * message-move task, or chosen ones by copy and delete).
 *
 * Listing reads the whole queue with long polling (every SQS server is asked, where a short poll
 * samples only some and can miss messages), keeping what it read hidden until the queue answers
 * empty, the limit is reached or the time bound runs out, and then makes it visible again.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { DeadLetters, DeadLetterSink, DeadLetterView, Letter } from '../app/dead-letters';
import { summarize } from '../app/dead-letters';

export interface SqsDeadLettersOptions {
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn?: string;
  readonly queueUrl?: string;
  readonly queueArn?: string;
  /** How long one listing may read the queue (the admin function has 10 s). @default 5000 */
  readonly peekBudgetMs?: number;
  readonly now?: () => number;
}

/** Seconds a listed message stays hidden while the listing goes on (released at its end). */
const PEEK_HIDE_SECONDS = 30;

const attr = (m: Message, name: string) => m.MessageAttributes?.[name]?.StringValue;

export class SqsDeadLetters implements DeadLetters, DeadLetterSink {
  constructor(
    private readonly sqs: SQSClient,
    private readonly opts: SqsDeadLettersOptions,
  ) {}

  async put(l: Letter): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.opts.deadLetterQueueUrl,
        MessageBody: l.body,
        MessageAttributes: {
          reason: { DataType: 'String', StringValue: l.reason || 'unknown' },
          receiveCount: { DataType: 'Number', StringValue: String(l.receiveCount) },
          originalMessageId: { DataType: 'String', StringValue: l.queueMessageId },
          at: { DataType: 'String', StringValue: new Date().toISOString() },
        },
      }),
    );
  }

  /**
   * Up to `limit` letters, each once: received hidden (so the next receive brings others) with
   * long polling, until the queue answers empty or the time bound. `keep` tells which stay hidden
   * for the caller; the others are made visible again before it returns.
   */
  private async peek(limit: number, keep: (m: Message) => boolean = () => false): Promise<Message[]> {
    const now = this.opts.now ?? Date.now;
    const deadline = now() + (this.opts.peekBudgetMs ?? 5_000);
    const seen = new Map<string, Message>();
    try {
      while (seen.size < limit) {
        const left = deadline - now();
        if (left < 1000) break;
        const r = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.opts.deadLetterQueueUrl,
            MaxNumberOfMessages: Math.min(10, limit - seen.size),
            VisibilityTimeout: PEEK_HIDE_SECONDS,
            WaitTimeSeconds: 1,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
          }),
        );
        const got = (r.Messages ?? []).filter((m) => m.MessageId && !seen.has(m.MessageId));
        // A long poll that finds nothing: every server was asked, the rest is hidden by us.
        if ((r.Messages ?? []).length === 0) break;
        for (const m of got) seen.set(m.MessageId!, m);
      }
    } finally {
      await this.release([...seen.values()].filter((m) => !keep(m)));
    }
    return [...seen.values()];
  }

  /** Makes received messages visible again (batches of 10). */
  private async release(messages: readonly Message[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
      const batch = messages.slice(i, i + 10);
      await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.opts.deadLetterQueueUrl,
          Entries: batch.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
        }),
      );
    }
  }

  async list(limit = 100): Promise<DeadLetterView[]> {
    return (await this.peek(limit)).map((m) => ({
      id: m.MessageId!,
      reason: attr(m, 'reason') ?? 'the consumer crashed or timed out on every attempt',
      receiveCount: Number(attr(m, 'receiveCount') ?? 0),
      at: attr(m, 'at') ?? new Date(Number(m.Attributes?.SentTimestamp ?? 0)).toISOString(),
      event: summarize(m.Body ?? ''),
    }));
  }

  async redrive(ids?: readonly string[]): Promise<number> {
    if (!this.opts.queueUrl) throw new Error('redrive needs the source queue URL');
    if (!ids) {
      if (!this.opts.deadLetterQueueArn || !this.opts.queueArn) throw new Error('redrive of all letters needs both queue ARNs');
      const before = (await this.peek(1000)).length;
      await this.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: this.opts.deadLetterQueueArn, DestinationArn: this.opts.queueArn }));
      return before;
    }
    let moved = 0;
    // The chosen ones stay hidden while copied; send first, delete after: a crash can only replay.
    for (const m of await this.peek(1000, (x) => ids.includes(x.MessageId!))) {
      if (!ids.includes(m.MessageId!)) continue;
      await this.sqs.send(new SendMessageCommand({ QueueUrl: this.opts.queueUrl, MessageBody: m.Body! }));
      await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.opts.deadLetterQueueUrl, ReceiptHandle: m.ReceiptHandle! }));
      moved++;
    }
    return moved;
  }
}
