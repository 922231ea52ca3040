/**
 * The local stand-in for EventBridge Scheduler: a timer per delayed action, keyed by its
 * dedupe id. Pending jobs live in memory only: a restart of `npm start` drops them. Erasure
 * cancels the pending jobs of the erased profiles (they hold the trigger event).
 */
import type { CopyStore, DelayedJob, ErasureSubject, Scheduler } from '../app/ports';

export class LocalScheduler implements Scheduler, CopyStore {
  readonly name = 'delayed actions';
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly jobs = new Map<string, DelayedJob>();

  constructor(private readonly run: (job: DelayedJob) => Promise<unknown>) {}

  async schedule(job: DelayedJob): Promise<void> {
    if (this.timers.has(job.dedupeId)) return;
    const wait = Math.max(0, Date.parse(job.dueAt) - Date.now());
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
