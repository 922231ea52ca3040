import type { Bus, BusEntry } from '../../app/ports';

/** A Bus that keeps every entry published to it, in order. */
export class RecordingBus implements Bus {
  readonly entries: BusEntry[] = [];
  async publish(entries: readonly BusEntry[]): Promise<void> {
    this.entries.push(...entries);
  }
}
