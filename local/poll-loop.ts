/**
 * The polling loop of the local stand-ins for Lambda event sources (queue, stream): a run now,
 * then another `intervalMs` after each run ends, until stopped. A run that throws is dropped;
 * the next tick tries again.
 */
export class PollLoop {
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> | undefined;

  constructor(private readonly intervalMs: number) {}

  start(run: () => Promise<unknown>): void {
    const tick = () => {
      this.busy = run()
        .then(
          () => undefined,
          () => undefined, // transient errors: try again next tick
        )
        .finally(() => {
          this.busy = undefined;
          if (this.timer !== undefined) this.timer = setTimeout(tick, this.intervalMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Schedules no more runs and waits for the one in progress, if any. */
  async stop(): Promise<void> {
    const t = this.timer;
    this.timer = undefined;
    if (t) clearTimeout(t);
    await this.busy;
  }
}
