/**
 * The local stand-in for EventBridge Scheduler: a timer per delayed action, keyed by its
 * dedupe id. Like Scheduler it refuses a due time in the past (a `ValidationException`). Pending
 * jobs live in memory only: a restart of `npm start` drops them. Erasure cancels the pending jobs
 * of the erased profiles (they hold the trigger event).
 */
import type { CopyStore, DelayedJob, ErasureSubject, Scheduler } from '../app/ports';
import { atExpression } from '../adapters/eventbridge-scheduler';

/** What Scheduler answers a one-time schedule whose time has passed. */
export class ScheduleInThePastError extends Error {
  readonly name = 'ValidationException';
}

export class LocalScheduler implements Scheduler, CopyStore {
  readonly name = 'delayed actions';
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly jobs = new Map<string, DelayedJob>();

  constructor(private readonly run: (job: DelayedJob) => Promise<unknown>) {}

  async schedule(job: DelayedJob): Promise<void> {
    if (this.timers.has(job.dedupeId)) return;
    // Scheduler rounds `at()` to the second (atExpression) and refuses one that is not ahead.
    const at = atExpression(job.dueAt);
    const due = Date.parse(`${at.slice(3, -1)}Z`);
    if (!(due > Date.now())) throw new ScheduleInThePastError(`The schedule expression ${at} is in the past.`);
    const wait = due - Date.now();
    const timer = setTimeout(() => {
      this.timers.delete(job.dedupeId);
      this.jobs.delete(job.dedupeId);
      void this.run(job).catch(() => undefined);
    }, wait);
    timer.unref?.();
    this.timers.set(job.dedupeId, timer);
    this.jobs.set(job.dedupeId, job);
  }

  async eraseSubject(subject: ErasureSubject): Promise<number> {
    let n = 0;
    for (const [id, job] of this.jobs) {
      if (!subject.profileIds.includes(job.profileId) && !subject.matches(JSON.stringify(job.event))) continue;
      clearTimeout(this.timers.get(id));
      this.timers.delete(id);
      this.jobs.delete(id);
      n++;
    }
    return n;
  }

  get pending(): number {
    return this.timers.size;
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.jobs.clear();
  }
}
