/**
 * The `computed-recompute` job kind: after the computed-trait definitions changed, every
 * profile's new or changed traits are folded again from its timeline and the removed ones
 * dropped (`recomputeProfile`, `app/computed-recompute.ts`), a page of a parallel scan of the
 * profile roots at a time; once every segment is done, the digests of the definitions are stored
 * (the profiles reflect them). The plan is the job's `params.plan`. Idempotent: a profile already
 * recomputed comes out the same and is not written again, and each write is conditional on the
 * versions read, so re-working a page changes nothing.
 */
import type { Job } from '../core/jobs';
import { planOf, recomputeProfile, recordRecomputed } from './computed-recompute';
import { DEFAULT_PAGE_ITEMS, eachConcurrently, type JobWorker, segmentWork, type WorkerDeps } from './job-work';

const NOT_CONFIGURED = 'this worker has no computed-trait recompute configured';

export const recomputeWorker: JobWorker = {
  async prepare(d: WorkerDeps, job: Job) {
    const deps = d.recompute;
    const plan = planOf(job);
    if (!plan) return 'the job holds no recompute plan';
    if (!deps) return NOT_CONFIGURED;
    return segmentWork({
      read: (state, cursor, totalSegments) => d.scanner.scanSegment(state.segment, totalSegments, cursor, d.pageSize ?? DEFAULT_PAGE_ITEMS),
      async work(page, _state, nowMs) {
        let recomputed = 0;
        await eachConcurrently(page.profileIds, d.concurrency ?? 16, async (id) => {
          if (await recomputeProfile({ ...deps, store: d.store }, plan, id, nowMs)) recomputed++;
          d.onProfile?.(id);
        });
        return {
          scanned: page.profileIds.length,
          counts: { recomputed },
          corrupt: page.corrupt,
          // Per profile: the part, its partitions' timelines and merge records read again, and a transactional write when changed.
          units: page.profileIds.length * 4 + recomputed * 4,
        };
      },
    });
  },
  async complete(d, job) {
    if (!d.recompute) throw new Error(NOT_CONFIGURED);
    await recordRecomputed(d.recompute.digests, job);
  },
};
