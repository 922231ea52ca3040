/**
 * Dead letters on SQS: the consumer sends a message it gives up on to the dead-letter queue with
 * its reason as a message attribute; operators list them (a peek: received with a zero
 * visibility timeout) and redrive them (all with a message-move task, or chosen ones by copy and
 * delete).
 */
import {
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
}

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

  private async peek(limit: number, visibilityTimeout: number): Promise<Message[]> {
    const seen = new Map<string, Message>();
    for (let empty = 0; seen.size < limit && empty < 2; ) {
      const r = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.opts.deadLetterQueueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: visibilityTimeout,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
      );
      const fresh = (r.Messages ?? []).filter((m) => m.MessageId && !seen.has(m.MessageId));
      if (fresh.length === 0) empty++;
      for (const m of fresh) seen.set(m.MessageId!, m);
    }
    return [...seen.values()].slice(0, limit);
  }

  async list(limit = 100): Promise<DeadLetterView[]> {
    return (await this.peek(limit, 0)).map((m) => ({
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
      const before = (await this.peek(1000, 0)).length;
      await this.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: this.opts.deadLetterQueueArn, DestinationArn: this.opts.queueArn }));
      return before;
    }
    let moved = 0;
    // Hidden for a minute while copied; send first, delete after: a crash can only replay.
    for (const m of await this.peek(1000, 60)) {
      if (!ids.includes(m.MessageId!)) continue;
      await this.sqs.send(new SendMessageCommand({ QueueUrl: this.opts.queueUrl, MessageBody: m.Body! }));
      await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.opts.deadLetterQueueUrl, ReceiptHandle: m.ReceiptHandle! }));
      moved++;
    }
    return moved;
  }
}
