/**
 * EventBridge partial failures: PutEvents answers with FailedEntryCount and per-entry error
 * codes. A stub client refuses random entries (and sometimes whole calls); every entry still
 * reaches the bus at least once, when the caller retries a publish that threw (as the stream
 * consumer does), and nothing but the given entries is ever accepted.
 */
import fc from 'fast-check';
import type { PutEventsCommand, PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import { EventBridgeBus } from '../../adapters/eventbridge-bus';
import type { BusEntry } from '../../app/ports';
import { seededRandom } from '../../local/faults';

function stubEventBridge(failRate: number, seed: number, throwRate = failRate / 4) {
  const dice = seededRandom(seed);
  const accepted: string[] = [];
  let calls = 0;
  const client = {
    send: async (cmd: PutEventsCommand) => {
      calls++;
      if (dice() < throwRate) throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
      const Entries: PutEventsResultEntry[] = cmd.input.Entries!.map((e) => {
        if (dice() < failRate) return { ErrorCode: 'InternalFailure', ErrorMessage: 'injected' };
        accepted.push(JSON.parse(e.Detail!).dedupeId);
        return { EventId: `ev-${accepted.length}` };
      });
      return { FailedEntryCount: Entries.filter((e) => e.ErrorCode).length, Entries };
    },
  };
  return { client, accepted, calls: () => calls };
}

const entries = (n: number): BusEntry[] =>
  Array.from({ length: n }, (_, i) => ({ detailType: 'Action Triggered', detail: { dedupeId: `d-${i}` } }));

async function publishUntilDone(bus: EventBridgeBus, list: readonly BusEntry[]): Promise<number> {
  for (let tries = 1; ; tries++) {
    try {
      await bus.publish(list);
      return tries;
    } catch (err) {
      if (tries >= 50) throw err;
    }
  }
}

test('every entry is accepted at least once despite random partial failures', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 35 }),
      fc.double({ min: 0, max: 0.3, noNaN: true }),
      fc.integer(),
      async (n, failRate, seed) => {
        const eb = stubEventBridge(failRate, seed);
        const bus = new EventBridgeBus(eb.client as never, 'bus', { baseDelayMs: 0 });
        const list = entries(n);
        await publishUntilDone(bus, list);
        expect(new Set(eb.accepted)).toEqual(new Set(list.map((e) => e.detail.dedupeId)));
      },
    ),
    { numRuns: 100 },
  );
});

test('only failed entries are resent', async () => {
  const eb = stubEventBridge(0.3, 7, 0);
  const bus = new EventBridgeBus(eb.client as never, 'bus', { baseDelayMs: 0, maxAttempts: 100 });
  await bus.publish(entries(100));
  // Nothing is accepted twice when no call threw: a failed entry is the only one sent again.
  expect(eb.accepted.length).toBe(new Set(eb.accepted).size);
  expect(new Set(eb.accepted).size).toBe(100);
});

test('a result without an EventId is not taken as delivered', async () => {
  const sent: number[] = [];
  const client = {
    send: async (cmd: PutEventsCommand) => {
      sent.push(cmd.input.Entries!.length);
      return sent.length === 1
        ? { FailedEntryCount: 1, Entries: [] }
        : { FailedEntryCount: 0, Entries: cmd.input.Entries!.map(() => ({ EventId: 'x' })) };
    },
  };
  await new EventBridgeBus(client as never, 'bus', { baseDelayMs: 0 }).publish(entries(3));
  expect(sent).toEqual([3, 3]);
});
