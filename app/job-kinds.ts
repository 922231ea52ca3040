/**
 * The worker of each job kind (`JOB_KINDS`, `core/jobs.ts`): what the engine (`app/jobs.ts`)
 * runs per page of a segment, and the job's answer. A new kind is a file `app/job-<kind>.ts`
 * exporting its `JobWorker` (and a `JobSpec` maker for whoever starts it), its name in
 * `JOB_KINDS`, and one line here.
 */
import type { JobKind } from '../core/jobs';
import { backfillWorker } from './job-backfill';
import { backtestWorker } from './job-backtest';
import { exportWorker } from './job-export';
import { recomputeWorker } from './job-recompute';
import type { JobWorker } from './job-work';

export const JOB_WORKERS: { readonly [K in JobKind]: JobWorker } = {
  'audience-backfill': backfillWorker,
  'rule-backtest': backtestWorker,
  'audience-export': exportWorker,
  'computed-recompute': recomputeWorker,
};
