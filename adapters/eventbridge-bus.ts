/**
 * Bus on EventBridge: PutEvents in chunks of ten, retrying only the entries that failed.
 */
import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { Bus, BusEntry } from '../app/ports';

export const BUS_SOURCE = 'scherp';
const MAX_ENTRIES = 10;

export interface EventBridgeBusOptions {
  /** Attempts of an entry before `publish` throws (the caller's redelivery retries it). @default 6 */
  readonly maxAttempts?: number;
  /** First backoff between attempts, doubled each time, in ms. @default 100 */
  readonly baseDelayMs?: number;
}

export class EventBridgeBus implements Bus {
  constructor(
    private readonly eb: Pick<EventBridgeClient, 'send'>,
    private readonly busName: string,
    private readonly opts: EventBridgeBusOptions = {},
  ) {}

  async publish(entries: readonly BusEntry[]): Promise<void> {
    for (let i = 0; i < entries.length; i += MAX_ENTRIES) {
      let pending: PutEventsRequestEntry[] = entries.slice(i, i + MAX_ENTRIES).map((e) => ({
        EventBusName: this.busName,
        Source: BUS_SOURCE,
        DetailType: e.detailType,
        Detail: JSON.stringify(e.detail),
      }));
      for (let attempt = 1; pending.length > 0; attempt++) {
        const res = await this.eb.send(new PutEventsCommand({ Entries: pending }));
        if (!res.FailedEntryCount) break;
        // Result entries line up with request entries; failed ones carry an ErrorCode and no
        // EventId. Only an entry with an EventId counts as delivered (a missing result is retried).
        pending = pending.filter((_, k) => !res.Entries?.[k]?.EventId || res.Entries[k]!.ErrorCode);
        if (attempt >= (this.opts.maxAttempts ?? 6))
          throw new Error(`EventBridge refused ${pending.length} entries after ${attempt} attempts`);
        await new Promise((r) => setTimeout(r, (this.opts.baseDelayMs ?? 100) * 2 ** (attempt - 1)));
      }
    }
  }
}
