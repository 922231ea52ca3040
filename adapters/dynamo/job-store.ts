/**
 * Jobs in the table (`core/jobs.ts`): the job item `JOB#<id> / JOB` (its document and status
 * `st`), one item per segment `JOB#<id> / SEG#<n>` written at each checkpoint, a listing item
 * under `JOBS`, and the subject's lock `JOBLOCK#<subject>`, taken with the job in one
 * transaction and freed when it ends: never two running jobs for one audience.
 */
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Job, type JobStatus, newSegment, type SegmentState, upgradeJob, upgradeSegment } from '../../core/jobs';
import type { JobStore } from '../../app/ports';
import { isConditionOrConflict } from './conditions';
import { JOBS_PK, keys } from './keys';
import { queryAll } from './query';

export class DynamoJobStore implements JobStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(job: Job): Promise<boolean> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: { ...keys.jobLock(job.subject), jobId: job.id, at: job.createdAt },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { ...keys.job(job.id), st: job.status, doc: JSON.stringify(job) },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            { Put: { TableName: this.tableName, Item: { ...keys.jobListing(job.createdAt, job.id), jobId: job.id } } },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (isConditionOrConflict(err)) return false;
      throw err;
    }
  }

  async get(jobId: string): Promise<{ job: Job; segments: SegmentState[] } | undefined> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.job(jobId).pk },
      ConsistentRead: true,
    });
    const root = items.find((i) => i.sk === 'JOB');
    if (!root) return undefined;
    const job = upgradeJob(JSON.parse(String(root.doc)));
    const stored = new Map<number, SegmentState>();
    for (const it of items) {
      if (!String(it.sk).startsWith('SEG#')) continue;
      const s = upgradeSegment(JSON.parse(String(it.doc)));
      stored.set(s.segment, s);
    }
    return { job, segments: Array.from({ length: job.segments }, (_, i) => stored.get(i) ?? newSegment(i)) };
  }

  async list(limit: number): Promise<Job[]> {
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': JOBS_PK },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    const out: Job[] = [];
    for (const it of res.Items ?? []) {
      const got = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.job(String(it.jobId)) }));
      if (got.Item) out.push(upgradeJob(JSON.parse(String(got.Item.doc))));
    }
    return out;
  }

  async lockHolder(subject: string): Promise<string | undefined> {
    const got = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.jobLock(subject), ConsistentRead: true }));
    return got.Item ? String(got.Item.jobId) : undefined;
  }

  async status(jobId: string): Promise<JobStatus | undefined> {
    const got = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.job(jobId), ProjectionExpression: 'st', ConsistentRead: true }),
    );
    return got.Item ? (String(got.Item.st) as JobStatus) : undefined;
  }

  async checkpoint(jobId: string, state: SegmentState): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: { ...keys.jobSegment(jobId, state.segment), doc: JSON.stringify(state) } }),
    );
  }

  async finish(job: Job, status: Exclude<JobStatus, 'running'>, at: string, error?: string): Promise<boolean> {
    const ended: Job = { ...job, status, updatedAt: at, finishedAt: at, ...(error ? { error } : {}) };
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: { ...keys.job(job.id), st: status, doc: JSON.stringify(ended) },
                ConditionExpression: 'st = :running',
                ExpressionAttributeValues: { ':running': 'running' },
              },
            },
            {
              Delete: {
                TableName: this.tableName,
                Key: keys.jobLock(job.subject),
                ConditionExpression: 'attribute_not_exists(pk) OR jobId = :id',
                ExpressionAttributeValues: { ':id': job.id },
              },
            },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (isConditionOrConflict(err)) return false;
      throw err;
    }
  }
}
