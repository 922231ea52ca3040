/**
 * EventQueue on SQS: one event per message (so one poison event never takes its neighbours to
 * the dead-letter queue), sent ten at a time with SendMessageBatch (billed as one request per
 * 64 KB of payload, so small events batch at the cost of one message). Also the queue of file
 * import jobs.
 */
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ScherpEvent } from '../core/events';
import type { EventQueue, ImportJobQueue } from '../app/ports';
import { jobMessage, type ImportJob } from '../core/import-job';

const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;
const MAX_ATTEMPTS = 5;

/** Groups message bodies into SendMessageBatch-sized chunks (≤ 10 entries, ≤ 256 KB). */
export function chunkBodies(bodies: readonly string[]): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let size = 0;
  for (const b of bodies) {
    const n = Buffer.byteLength(b);
    if (cur.length > 0 && (cur.length === MAX_ENTRIES || size + n > MAX_BATCH_BYTES)) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(b);
    size += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

export class SqsEventQueue implements EventQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(events: readonly ScherpEvent[]): Promise<void> {
    for (const chunk of chunkBodies(events.map((e) => JSON.stringify(e)))) {
      let pending = chunk.map((body, i) => ({ Id: String(i), MessageBody: body }));
      for (let attempt = 1; pending.length > 0; attempt++) {
        const res = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }));
        const failed = new Set((res.Failed ?? []).map((f) => f.Id));
        pending = pending.filter((p) => failed.has(p.Id));
        if (pending.length > 0 && attempt >= MAX_ATTEMPTS)
          throw new Error(`SQS refused ${pending.length} messages after ${attempt} attempts`);
        if (pending.length > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      }
    }
  }
}

/** ImportJobQueue on the import queue (the queue the bucket notifies), one job per message. */
export class SqsImportJobQueue implements ImportJobQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(job: ImportJob): Promise<void> {
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: jobMessage(job) }));
  }
}
