/**
 * The deploy-time custom resource of the jobs worker (lambdas/jobs/computed-recompute.ts): on
 * Create/Update it checks the computed-trait definitions and starts the recompute when they
 * changed, answering CloudFormation SUCCESS (FAILED when it cannot start it); Delete does nothing.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { ComputedDigestStore } from '../../app/computed-recompute';
import type { JobStore } from '../../app/ports';
import { ComputedConfigSchema } from '../../core/computed';
import { definitionDigests } from '../../core/computed-recompute';
import type { Job, JobStatus, SegmentState } from '../../core/jobs';
import { type CfnResponse, handleRecomputeResource, isCustomResourceEvent } from '../../lambdas/jobs/computed-recompute';

class Jobs implements JobStore {
  readonly jobs = new Map<string, Job>();
  readonly locks = new Map<string, string>();
  async create(job: Job) {
    if (this.locks.has(job.subject)) return false;
    this.locks.set(job.subject, job.id);
    this.jobs.set(job.id, job);
    return true;
  }
  async get(id: string) {
    const job = this.jobs.get(id);
    return job ? { job, segments: [] as SegmentState[] } : undefined;
  }
  async list() {
    return [...this.jobs.values()];
  }
  async lockHolder(subject: string) {
    return this.locks.get(subject);
  }
  async status(id: string) {
    return this.jobs.get(id)?.status;
  }
  async checkpoint() {}
  async finish(job: Job, status: Exclude<JobStatus, 'running'>) {
    this.jobs.set(job.id, { ...job, status });
    this.locks.delete(job.subject);
    return true;
  }
}

class Digests implements ComputedDigestStore {
  constructor(public stored?: Record<string, string>) {}
  async get() {
    return this.stored;
  }
  async put(d: Readonly<Record<string, string>>) {
    this.stored = { ...d };
  }
}

const event = (RequestType: 'Create' | 'Update' | 'Delete'): CloudFormationCustomResourceEvent =>
  ({
    RequestType,
    ResponseURL: 'https://cloudformation-custom-resource-response.example/presigned',
    StackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/Scherp/1',
    RequestId: 'req-1',
    LogicalResourceId: 'ComputedRecompute',
    ResourceType: 'Custom::ScherpComputedRecompute',
    ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:jobs',
    ResourceProperties: { ServiceToken: 'x', Digest: 'd' },
    ...(RequestType === 'Create' ? {} : { PhysicalResourceId: 'scherp-computed-recompute', OldResourceProperties: {} }),
  }) as CloudFormationCustomResourceEvent;

const OLD = ComputedConfigSchema.parse({});
const NEW = ComputedConfigSchema.parse({ coupon_orders: { op: 'count', event: 'Order Completed' } });

function setup(stored: Record<string, string> | undefined, defs = NEW) {
  const sent: CfnResponse[] = [];
  const launched: Job[] = [];
  const deps = { defs, digests: new Digests(stored), jobs: new Jobs(), launcher: { launch: async (j: Job) => void launched.push(j) } };
  const respond = async (url: string, body: CfnResponse) => {
    expect(url).toContain('presigned');
    sent.push(body);
  };
  return { deps, sent, launched, respond };
}

test('recognises a custom-resource event (and nothing the state machine sends)', () => {
  expect(isCustomResourceEvent(event('Create'))).toBe(true);
  expect(isCustomResourceEvent({ jobId: 'j', segment: 0 })).toBe(false);
  expect(isCustomResourceEvent({ sweep: true })).toBe(false);
});

test('Update after a definition changed: the recompute job starts, CloudFormation gets SUCCESS with its id', async () => {
  const s = setup(definitionDigests(OLD));
  const answer = await handleRecomputeResource(s.deps, event('Update'), s.respond);
  expect(s.sent).toEqual([answer]);
  expect(answer).toMatchObject({
    Status: 'SUCCESS',
    PhysicalResourceId: 'scherp-computed-recompute',
    RequestId: 'req-1',
    LogicalResourceId: 'ComputedRecompute',
  });
  expect(s.launched).toHaveLength(1);
  expect(s.launched[0]).toMatchObject({
    kind: 'computed-recompute',
    params: { plan: { recompute: ['coupon_orders'], remove: [] } },
  });
  expect(answer.Data).toEqual({ Outcome: 'started', JobId: s.launched[0]!.id });
});

test('Create on a first deploy records the digests; nothing changed: nothing started; Delete does nothing', async () => {
  const s = setup(undefined);
  expect(await handleRecomputeResource(s.deps, event('Create'), s.respond)).toMatchObject({ Status: 'SUCCESS', Reason: 'recorded' });
  expect(s.deps.digests.stored).toEqual(definitionDigests(NEW));
  expect(await handleRecomputeResource(s.deps, event('Update'), s.respond)).toMatchObject({ Status: 'SUCCESS', Reason: 'unchanged' });
  expect(await handleRecomputeResource(s.deps, event('Delete'), s.respond)).toMatchObject({ Status: 'SUCCESS' });
  expect(s.launched).toHaveLength(0);
  expect(s.sent).toHaveLength(3);
});

test('a recompute that cannot start answers FAILED with the reason', async () => {
  const s = setup(definitionDigests(OLD));
  const failing = { ...s.deps, launcher: { launch: async () => Promise.reject(new Error('jobs bus unreachable')) } };
  const answer = await handleRecomputeResource(failing, event('Update'), s.respond);
  expect(answer.Status).toBe('FAILED');
  expect(answer.Reason).toContain('jobs bus unreachable');
  // The job it could not start does not hold the lock: the next deploy starts one.
  expect([...s.deps.jobs.jobs.values()].map((j) => j.status)).toEqual(['failed']);
  expect(await handleRecomputeResource(s.deps, event('Update'), s.respond)).toMatchObject({ Status: 'SUCCESS', Reason: 'started' });
});
