/**
 * The local stand-in for EventBridge Scheduler: a timer per delayed action, keyed by its
 * dedupe id. Pending jobs live in memory only: a restart of `npm start` drops them.
 */
import type { DelayedJob, Scheduler } from '../app/ports';

export class LocalScheduler implements Scheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly run: (job: DelayedJob) => Promise<unknown>) {}

  async schedule(job: DelayedJob): Promise<void> {
    if (this.timers.has(job.dedupeId)) return;
    const wait = Math.max(0, Date.parse(job.dueAt) - Date.now());
    const timer = setTimeout(() => {
      this.timers.delete(job.dedupeId);
      void this.run(job).catch(() => undefined);
    }, wait);
    timer.unref?.();
    this.timers.set(job.dedupeId, timer);
  }

  get pending(): number {
    return this.timers.size;
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
