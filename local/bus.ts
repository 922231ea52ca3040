/**
 * The local bus: every entry is appended as a JSON line to `bus.jsonl`, shaped like the
 * EventBridge event a target would receive, and announced on stdout by its ids and names only
 * (no user id, email, data or explanation: a terminal or its scroll-back is no place for them).
 * Erasure removes the lines naming the person from the file (and from `delivered`).
 */
import { appendFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Bus, BusEntry, CopyStore, ErasureSubject } from '../app/ports';
import { lineNames, rewriteJsonlWithout } from './jsonl';
import { BUS_SOURCE } from '../adapters/eventbridge-bus';

export interface LocalBusEvent {
  readonly id: string;
  readonly source: string;
  readonly 'detail-type': string;
  readonly time: string;
  readonly detail: Record<string, unknown>;
}

/** The stdout line of a bus event: detail-type, rule or audience, action, profile and dedupe ids. */
export function busLine(e: BusEntry): string {
  const d = e.detail;
  const fields: [string, unknown][] = [
    ['rule', d.ruleId],
    ['audience', d.audienceId],
    ['action', d.action],
    ['profile', d.profileId],
    ['dedupe', d.dedupeId],
  ];
  const named = fields.filter(([, v]) => typeof v === 'string').map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `[bus] ${e.detailType}${named.length > 0 ? ` ${named.join(' ')}` : ''}`;
}

export class LocalBus implements Bus, CopyStore {
  readonly name = 'bus.jsonl';
  readonly events = new EventEmitter();
  readonly delivered: LocalBusEvent[] = [];

  constructor(private readonly opts: { file?: string; print?: boolean; keep?: number } = {}) {}

  async publish(entries: readonly BusEntry[]): Promise<void> {
    for (const e of entries) {
      const ev: LocalBusEvent = {
        id: randomUUID(),
        source: BUS_SOURCE,
        'detail-type': e.detailType,
        time: new Date().toISOString(),
        detail: e.detail,
      };
      const line = JSON.stringify(ev);
      if (this.opts.file) appendFileSync(this.opts.file, `${line}\n`);
      if (this.opts.print) process.stdout.write(`${busLine(e)}\n`);
      this.delivered.push(ev);
      if (this.delivered.length > (this.opts.keep ?? 10_000)) this.delivered.shift();
      this.events.emit('event', ev);
    }
  }

  async eraseSubject(subject: ErasureSubject): Promise<number> {
    for (let i = this.delivered.length - 1; i >= 0; i--)
      if (lineNames(JSON.stringify(this.delivered[i]), subject)) this.delivered.splice(i, 1);
    return this.opts.file ? rewriteJsonlWithout(this.opts.file, (line) => lineNames(line, subject)) : 0;
  }
}
