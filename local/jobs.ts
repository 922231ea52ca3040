/**
 * The local job engine: the same segment worker as the cloud's Step Functions Map
 * (`app/jobs.ts` `runSegment`), run by an in-process pool of `workers` at a time. Jobs still
 * running when the runtime stopped are resumed from their checkpoints at the next start.
 */
import { completeIfDone, runSegment, type WorkerDeps } from '../app/jobs';
import { type SweepDeps, sweepDue } from '../app/expiry';
import type { JobLauncher } from '../app/ports';
import type { Job } from '../core/jobs';

export interface LocalJobOptions {
  /** Segments worked on at once. @default 4 */
  readonly workers?: number;
  /** Attempts of a failing segment before the job fails. @default 3 */
  readonly attempts?: number;
  readonly onError?: (jobId: string, err: unknown) => void;
}

class Stopped extends Error {}

export class LocalJobRunner implements JobLauncher {
  private readonly running = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(
    private readonly deps: () => WorkerDeps,
    private readonly opts: LocalJobOptions = {},
  ) {}

  async launch(job: Job): Promise<void> {
    if (this.running.has(job.id)) return;
    const p = this.run(job).finally(() => this.running.delete(job.id));
    this.running.set(job.id, p);
  }

  /** Waits for a job's workers (tests and the CLI). */
  async wait(jobId: string): Promise<void> {
    await this.running.get(jobId);
  }

  /** Resumes the jobs left running (after a restart or a killed worker). */
  async resume(): Promise<void> {
    const d = this.deps();
    for (const job of await d.jobs.list(50)) if (job.status === 'running') await this.launch(job);
  }

  private async run(job: Job): Promise<void> {
    const base = this.deps();
    const d: WorkerDeps = {
      ...base,
      onProfile: (id) => {
        if (this.stopped) throw new Stopped();
        base.onProfile?.(id);
      },
    };
    const queue = Array.from({ length: job.segments }, (_, i) => i);
    const worker = async () => {
      for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
        for (let attempt = 1; ; attempt++) {
          try {
            await runSegment(d, job.id, s);
            break;
          } catch (err) {
            if (err instanceof Stopped || this.stopped) return;
            this.opts.onError?.(job.id, err);
            if (attempt >= (this.opts.attempts ?? 3)) {
              await d.jobs.finish(job, 'failed', new Date().toISOString(), `segment ${s}: ${(err as Error).message}`);
              return;
            }
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.workers ?? 4, job.segments) }, worker));
    if (!this.stopped) await completeIfDone(d, job.id);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.running.values()]);
  }
}

/** The local every-minute sweep of due memberships (time-based exits); one sweep at a time. */
export function startSweeper(deps: SweepDeps, intervalMs: number): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    running = sweepDue({
      ...deps,
      onError: (_item, err) => process.stderr.write(`scherp: due membership not re-checked: ${(err as Error).message}\n`),
    })
      .catch((err: unknown) => process.stderr.write(`scherp: sweep failed: ${(err as Error).message}\n`))
      .finally(() => {
        busy = false;
      });
  }, intervalMs);
  timer.unref?.();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
