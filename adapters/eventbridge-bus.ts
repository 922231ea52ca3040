/**
 * Bus on EventBridge: PutEvents in chunks of ten, retrying only the entries that failed.
 */
import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { Bus, BusEntry } from '../app/ports';

export const BUS_SOURCE = 'scherp';
const MAX_ENTRIES = 10;
const MAX_ATTEMPTS = 6;

export class EventBridgeBus implements Bus {
  constructor(
    private readonly eb: EventBridgeClient,
    private readonly busName: string,
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
        // Result entries line up with request entries; failed ones carry an ErrorCode.
        pending = pending.filter((_, k) => res.Entries?.[k]?.ErrorCode);
        if (attempt >= MAX_ATTEMPTS) throw new Error(`EventBridge refused ${pending.length} entries after ${attempt} attempts`);
        await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      }
    }
  }
}
