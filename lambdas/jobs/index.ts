/**
 * jobs: the worker of the jobs state machine (`lib/jobs.ts`). The Map state invokes it with
 * `{ jobId, segment }` for each parallel-scan segment; it works through the segment from its
 * checkpoint until done, or until a minute of its time is left, and answers `{ done }` (the state
 * machine invokes it again while `done` is false). After the Map, `{ jobId, complete: true }`
 * marks the job succeeded; `{ jobId, failed: true }` (the state machine's catch) marks it failed.
 * `{ sweep: true }` (every minute, an EventBridge schedule) re-checks the memberships due: time-based exits;
 * the same index holds splits' final settle passes (`app/split.ts`), run here when due.
 * A CloudFormation custom-resource event (at deploy) starts a computed-trait recompute when the
 * definitions changed (`./computed-recompute.ts`).
 */
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { S3JobFiles } from '../../adapters/s3-job-files';
import { DynamoMembershipStore } from '../../adapters/dynamo/membership-store';
import { completeIfDone, runSegment, type WorkerDeps } from '../../app/jobs';
import { EventBridgeBus } from '../../adapters/eventbridge-bus';
import { DynamoHistoryStore } from '../../adapters/dynamo/history-store';
import { DynamoJobStore } from '../../adapters/dynamo/job-store';
import { DynamoDueStore } from '../../adapters/dynamo/due-store';
import { sweepDue } from '../../app/expiry';
import { finalSettle } from '../../app/split';
import { DynamoComputedStore } from '../../adapters/dynamo/computed-store';
import { scherpConfig } from '../shared/config';
import type { DueStore } from '../../app/ports';
import { DynamoPersonalizationStore } from '../../adapters/dynamo/personalization-store';
import { DynamoProfileScanner } from '../../adapters/dynamo/profile-scanner';
import { DynamoRuleStore } from '../../adapters/dynamo/rule-store';
import { dynamo, profileStore, tableName } from '../shared/dynamo';
import { ENV, requireEnv } from '../shared/env';
import { lazy } from '../shared/lazy';
import { errorFields, logger } from '../shared/observability';
import { BusJobLauncher } from '../../adapters/bus-job-launcher';
import { DynamoComputedDigestStore, DynamoRecomputeStore } from '../../adapters/dynamo/computed-recompute-store';
import { handleRecomputeResource, isCustomResourceEvent, type RecomputeResourceDeps } from './computed-recompute';

export type JobsInvocation =
  | { readonly sweep: true }
  | { readonly jobId: string; readonly segment: number }
  | { readonly jobId: string; readonly complete: true }
  | { readonly jobId: string; readonly failed: true; readonly error?: unknown }
  | CloudFormationCustomResourceEvent;

/** Time left when a worker hands its segment over to the next invocation. */
const HANDOVER_MS = 60_000;

/** What the worker needs besides a job's: the due index, and a split's final settle pass it runs from there. */
export interface SweepWorkerDeps {
  readonly due: DueStore;
  readonly settleSplit?: (keptId: string, splitId: string) => Promise<unknown>;
}

export function createJobsHandler(deps: () => WorkerDeps & SweepWorkerDeps, resource?: () => RecomputeResourceDeps) {
  return async (event: JobsInvocation, context?: Pick<Context, 'getRemainingTimeInMillis'>) => {
    if (isCustomResourceEvent(event)) {
      if (!resource) throw new Error('this worker does not start recomputes');
      return handleRecomputeResource(resource(), event);
    }
    const d = deps();
    if ('sweep' in event) {
      const result = await sweepDue({
        ...d,
        onError: (item, err) =>
          logger.warn('due membership not re-checked; retried next minute', { audienceId: item.audienceId, ...errorFields(err) }),
      });
      if (result.checked > 0) logger.info('due memberships swept', { ...result });
      return result;
    }
    if ('complete' in event) return { jobId: event.jobId, succeeded: await completeIfDone(d, event.jobId) };
    if ('failed' in event) {
      const got = await d.jobs.get(event.jobId);
      if (got?.job.status === 'running') await d.jobs.finish(got.job, 'failed', new Date().toISOString(), 'a worker failed repeatedly');
      logger.error('job failed', { jobId: event.jobId });
      return { jobId: event.jobId, failed: true };
    }
    try {
      const timeUp = () => (context ? context.getRemainingTimeInMillis() < HANDOVER_MS : false);
      const outcome = await runSegment({ ...d, timeUp }, event.jobId, event.segment);
      logger.info('job segment worked', { jobId: event.jobId, segment: event.segment, outcome });
      return { jobId: event.jobId, segment: event.segment, done: outcome !== 'paused' };
    } catch (err) {
      logger.warn('job segment failed; the state machine retries it from its checkpoint', {
        jobId: event.jobId,
        segment: event.segment,
        ...errorFields(err),
      });
      throw err;
    }
  };
}

/** Computed-trait recomputes (`app/computed-recompute.ts`): the deployed definitions and the event retention. */
const recomputeDeps = lazy(() => ({
  defs: scherpConfig().computed,
  computed: new DynamoRecomputeStore(dynamo(), tableName(), profileStore()),
  digests: new DynamoComputedDigestStore(dynamo(), tableName()),
  retentionDays: Number(requireEnv(ENV.EVENT_RETENTION_DAYS)),
}));

const cloudDeps = lazy((): WorkerDeps & SweepWorkerDeps => ({
  due: new DynamoDueStore(dynamo(), tableName()),
  settleSplit: (keptId, splitId) =>
    finalSettle(
      {
        store: profileStore(),
        identity: scherpConfig().identity,
        traits: scherpConfig().traits,
        computed: { store: new DynamoComputedStore(dynamo(), tableName()), defs: scherpConfig().computed },
      },
      keptId,
      splitId,
    ),
  jobs: new DynamoJobStore(dynamo(), tableName()),
  rules: new DynamoRuleStore(dynamo(), tableName()),
  scanner: new DynamoProfileScanner(dynamo(), tableName()),
  store: profileStore(),
  parts: new DynamoPersonalizationStore(dynamo(), tableName()),
  history: new DynamoHistoryStore(dynamo(), tableName()),
  bus: new EventBridgeBus(new EventBridgeClient({}), requireEnv(ENV.EVENT_BUS_NAME)),
  members: new DynamoMembershipStore(dynamo(), tableName()),
  files: new S3JobFiles(new S3Client({}), requireEnv(ENV.JOBS_BUCKET)),
  recompute: recomputeDeps(),
}));

const resourceDeps = lazy(
  (): RecomputeResourceDeps => ({
    ...recomputeDeps(),
    jobs: new DynamoJobStore(dynamo(), tableName()),
    launcher: new BusJobLauncher(new EventBridgeBus(new EventBridgeClient({}), requireEnv(ENV.JOBS_BUS_NAME))),
  }),
);

export const handler = createJobsHandler(cloudDeps, resourceDeps);
