/**
 * Starts a job in the cloud: a `Job Started` event on the jobs bus (an internal bus of the
 * construct, not Scherp's), whose rule starts the jobs state machine with the job id and its
 * segments (`lib/jobs.ts`). Locally the in-process pool (`local/jobs.ts`) launches instead.
 */
import type { Bus, JobLauncher } from '../app/ports';
import { type Job, JOB_STARTED } from '../core/jobs';

export class BusJobLauncher implements JobLauncher {
  constructor(private readonly bus: Bus) {}

  async launch(job: Job): Promise<void> {
    await this.bus.publish([
      { detailType: JOB_STARTED, detail: { jobId: job.id, segments: Array.from({ length: job.segments }, (_, i) => i) } },
    ]);
  }
}
