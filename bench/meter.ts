/**
 * Sums the DynamoDB capacity the runtime consumes, per label (a phase or an event kind), from
 * the capacity-metering middleware in adapters/dynamo/client.ts.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { meterCapacity, type MeteredCall } from '../adapters/dynamo/client';

export interface Tally {
  calls: number;
  reads: number;
  writes: number;
  rru: number;
  wru: number;
  itemsWritten: number;
  conditionFailed: number;
  ms: number;
}

export function emptyTally(): Tally {
  return { calls: 0, reads: 0, writes: 0, rru: 0, wru: 0, itemsWritten: 0, conditionFailed: 0, ms: 0 };
}

export class Meter {
  /** Calls are added to this label's tally. */
  label = 'setup';
  /** When set, every call (with its request body) is also appended here. */
  capture: MeteredCall[] | undefined;
  lastCallAt = 0;
  private readonly tallies = new Map<string, Tally>();

  attach(client: DynamoDBClient): void {
    meterCapacity(client, (c) => this.record(c), { captureBody: () => this.capture !== undefined });
  }

  private record(c: MeteredCall): void {
    this.lastCallAt = performance.now();
    const t = this.tally(this.label);
    t.calls++;
    t.ms += c.ms;
    if (c.kind === 'read') {
      t.reads++;
      t.rru += c.units;
    } else {
      t.writes++;
      t.wru += c.units;
      t.itemsWritten += c.itemsWritten;
      if (c.conditionFailed) t.conditionFailed++;
    }
    this.capture?.push(c);
  }

  tally(label: string): Tally {
    let t = this.tallies.get(label);
    if (!t) this.tallies.set(label, (t = emptyTally()));
    return t;
  }
}
