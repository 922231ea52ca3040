/**
 * What the console's back end costs in DynamoDB units, measured on the real adapters against
 * DynamoDB Local with the capacity meter (`bench/meter.ts`):
 * - the debugger with no session: 1,000 collect requests over 10 s of one container's (simulated)
 *   time: the marker reads (cached 2 s) and writes (none);
 * - the debugger with a session open: write units per event at batch sizes 1 and 20;
 * - the counters: write units of one stitch batch of 10 events (one hour bucket), per event.
 */
import { DEFAULT_STITCH_BATCH_SIZE } from '../core/ingest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { localDynamoConfig } from '../adapters/dynamo/client';
import { DynamoDebugStore } from '../adapters/dynamo/debug-store';
import { DynamoStatsStore } from '../adapters/dynamo/stats-store';
import { DebugTap, openDebugSession } from '../app/debug';
import { tallyEvent, type Tally } from '../core/stats';
import type { ScherpEvent } from '../core/events';
import { Meter } from './meter';

export interface DebuggerCost {
  readonly idle: {
    readonly requests: number;
    readonly seconds: number;
    readonly reads: number;
    readonly rru: number;
    readonly writes: number;
    readonly wru: number;
  };
  readonly watching: { readonly batch1WruPerEvent: number; readonly batch20WruPerEvent: number };
  readonly counters: { readonly eventsPerBatch: number; readonly wruPerBatch: number; readonly wruPerEvent: number };
}

const event = (i: number): ScherpEvent =>
  ({
    type: 'track',
    event: i % 3 === 0 ? 'Order Completed' : 'Product Viewed',
    messageId: `bench-${i}`,
    sourceId: 'default',
    userId: `user-${i % 50}`,
    anonymousId: `anon-${i % 50}`,
    properties: { sku: `sku-${i}`, price: 19.99, currency: 'EUR' },
    context: { ip: '203.0.113.9', userAgent: 'Mozilla/5.0 (bench)' },
    timestamp: '2026-12-01T10:00:00.000Z',
    receivedAt: '2026-12-01T10:00:00.000Z',
  }) as ScherpEvent;

export async function measureDebugger(endpoint: string, tableName: string): Promise<DebuggerCost> {
  const client = new DynamoDBClient(localDynamoConfig(endpoint));
  const meter = new Meter();
  meter.attach(client);
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  try {
    let now = Date.now();
    const store = new DynamoDebugStore(doc, { tableName, now: () => now });
    const req = (i: number) => ({ receivedAt: new Date(now).toISOString(), requestId: `bench-${i}`, sourceId: 'default', route: 'batch' });

    meter.label = 'idle';
    const idleTap = new DebugTap(store, { now: () => now });
    const requests = 1000;
    for (let i = 0; i < requests; i++) {
      await idleTap.record(req(i), [event(i)], []);
      now += 10;
    }
    const idle = meter.tally('idle');

    const watch = async (label: string, batch: number, requestCount: number) => {
      meter.label = label;
      const tap = new DebugTap(store, { now: () => now, perSecond: Number.MAX_SAFE_INTEGER });
      await openDebugSession(store, new Date(now), tap);
      const before = meter.tally(label).wru;
      for (let r = 0; r < requestCount; r++) {
        await tap.record(
          req(r),
          Array.from({ length: batch }, (_, j) => event(r * batch + j)),
          [],
        );
        now += 10;
      }
      return (meter.tally(label).wru - before) / (batch * requestCount);
    };
    const batch1 = await watch('watch1', 1, 50);
    const batch20 = await watch('watch20', 20, 10);

    meter.label = 'counters';
    const stats = new DynamoStatsStore(doc, tableName);
    const batches = 20;
    const perBatch = DEFAULT_STITCH_BATCH_SIZE;
    for (let b = 0; b < batches; b++) {
      const tally: Tally = new Map();
      for (let i = 0; i < perBatch; i++) tallyEvent(tally, event(b * perBatch + i), i === 0 ? 1 : 0);
      for (const h of tally.values()) await stats.add(h);
    }
    const c = meter.tally('counters');
    return {
      idle: { requests, seconds: (requests * 10) / 1000, reads: idle.reads, rru: idle.rru, writes: idle.writes, wru: idle.wru },
      watching: { batch1WruPerEvent: batch1, batch20WruPerEvent: batch20 },
      counters: { eventsPerBatch: perBatch, wruPerBatch: c.wru / batches, wruPerEvent: c.wru / (batches * perBatch) },
    };
  } finally {
    doc.destroy();
    client.destroy();
  }
}
