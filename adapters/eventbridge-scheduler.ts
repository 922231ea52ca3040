/**
 * Scheduler on EventBridge Scheduler: one one-time schedule per delayed action, named by its
 * dedupe id (so scheduling twice is a no-op) and deleted after it runs. The target is the
 * evaluate function, invoked with `{ "scherpDelayed": job }`.
 */
import { ConflictException, CreateScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import type { DelayedJob, Scheduler } from '../app/ports';

export interface EventBridgeSchedulerOptions {
  /** The function the schedule invokes (resolved per call: the handler learns it from its context). */
  readonly targetArn: () => string;
  /** Role EventBridge Scheduler assumes to invoke the target. */
  readonly roleArn: string;
  readonly groupName?: string;
  /** Where invocations that keep failing go. */
  readonly deadLetterArn?: string;
}

/** The payload a delayed action's schedule invokes evaluate with. */
export interface DelayedInvocation {
  readonly scherpDelayed: DelayedJob;
}

export function isDelayedInvocation(e: unknown): e is DelayedInvocation {
  return typeof e === 'object' && e !== null && typeof (e as DelayedInvocation).scherpDelayed === 'object';
}

/** `at(yyyy-mm-ddThh:mm:ss)` in UTC, rounded up to the next second. */
export function atExpression(iso: string): string {
  const ms = Math.ceil(Date.parse(iso) / 1000) * 1000;
  return `at(${new Date(ms).toISOString().slice(0, 19)})`;
}

export class EventBridgeScheduler implements Scheduler {
  constructor(
    private readonly client: SchedulerClient,
    private readonly opts: EventBridgeSchedulerOptions,
  ) {}

  async schedule(job: DelayedJob): Promise<void> {
    const input: DelayedInvocation = { scherpDelayed: job };
    try {
      await this.client.send(
        new CreateScheduleCommand({
          Name: `scherp-${job.dedupeId}`,
          GroupName: this.opts.groupName,
          ScheduleExpression: atExpression(job.dueAt),
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Target: {
            Arn: this.opts.targetArn(),
            RoleArn: this.opts.roleArn,
            Input: JSON.stringify(input),
            RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 3600 },
            ...(this.opts.deadLetterArn ? { DeadLetterConfig: { Arn: this.opts.deadLetterArn } } : {}),
          },
        }),
      );
    } catch (err) {
      // Already scheduled by an earlier delivery of the same event.
      if (err instanceof ConflictException || (err as { name?: string })?.name === 'ConflictException') return;
      throw err;
    }
  }
}
