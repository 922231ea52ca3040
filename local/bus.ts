/**
 * The local bus: every entry is printed to stdout and appended as a JSON line to `bus.jsonl`,
 * shaped like the EventBridge event a target would receive.
 */
import { appendFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Bus, BusEntry } from '../app/ports';
import { BUS_SOURCE } from '../adapters/eventbridge-bus';

export interface LocalBusEvent {
  readonly id: string;
  readonly source: string;
  readonly 'detail-type': string;
  readonly time: string;
  readonly detail: Record<string, unknown>;
}

export class LocalBus implements Bus {
  readonly events = new EventEmitter();
  readonly delivered: LocalBusEvent[] = [];

  constructor(private readonly opts: { file?: string; print?: boolean; keep?: number } = {}) {}

  async publish(entries: readonly BusEntry[]): Promise<void> {
    for (const e of entries) {
      const ev: LocalBusEvent = { id: randomUUID(), source: BUS_SOURCE, 'detail-type': e.detailType, time: new Date().toISOString(), detail: e.detail };
      const line = JSON.stringify(ev);
      if (this.opts.file) appendFileSync(this.opts.file, line + '\n');
      if (this.opts.print) process.stdout.write(`[bus] ${e.detailType} ${JSON.stringify(e.detail)}\n`);
      this.delivered.push(ev);
      if (this.delivered.length > (this.opts.keep ?? 10_000)) this.delivered.shift();
      this.events.emit('event', ev);
    }
  }
}
