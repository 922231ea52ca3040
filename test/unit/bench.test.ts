import { ASSUMED_CALL_MS, costPerMillionEvents, floorInputs, type CostInputs } from '../../bench/cost';
import { generateDataSet, Prng } from '../../bench/dataset';

describe('bench data set', () => {
  test('is deterministic for a seed and differs between seeds', () => {
    const a = generateDataSet({ users: 25, seed: 7 });
    const b = generateDataSet({ users: 25, seed: 7 });
    const c = generateDataSet({ users: 25, seed: 8 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
  });

  test('the PRNG stays in range and repeats its sequence', () => {
    const r1 = new Prng(1);
    const r2 = new Prng(1);
    for (let i = 0; i < 1000; i++) {
      const x = r1.next();
      expect(x).toBe(r2.next());
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });

  test('has the shop shape: merges, orders with products, diapers with ointment, CRM complaints, ~1 KB events', () => {
    const ds = generateDataSet({ users: 200, seed: 42 });
    const kinds = new Set(ds.events.map((e) => e.kind));
    expect([...kinds].sort()).toEqual(['checkout', 'complaint', 'identify', 'order', 'page', 'product_viewed', 'signed_in', 'signed_up']);
    const ids = new Set(ds.events.map((e) => e.body.messageId));
    expect(ids.size).toBe(ds.events.length);
    const orders = ds.events
      .filter((e) => e.kind === 'order')
      .map((e) => e.body.properties as { revenue: number; products: { name: string; product_id: string; category: string }[] });
    expect(orders.every((o) => o.revenue > 0 && o.products.length > 0 && o.products.every((p) => p.product_id && p.category))).toBe(true);
    expect(orders.some((o) => o.products.some((p) => p.name === 'diapers') && o.products.some((p) => p.name === 'baby ointment'))).toBe(
      true,
    );
    const complaints = ds.events.filter((e) => e.kind === 'complaint');
    expect(complaints.length).toBeGreaterThan(0);
    expect(
      complaints.every((e) => (e.body.context as { library: { name: string } }).library.name === 'crm-sync' && !e.body.anonymousId),
    ).toBe(true);
    // Logins on a second device link a second anonymous id to the user id.
    expect(ds.users.some((u) => u.anonymousIds.length > 1)).toBe(true);
    const sizes = ds.events.filter((e) => e.kind !== 'complaint').map((e) => JSON.stringify(e.body).length);
    const mean = sizes.reduce((s, n) => s + n, 0) / sizes.length;
    expect(mean).toBeGreaterThan(800);
    expect(mean).toBeLessThan(1400);
    const times = ds.events.map((e) => Date.parse(e.body.timestamp as string));
    expect(times).toEqual([...times].sort((x, y) => x - y));
  });
});

describe('bench cost model', () => {
  const base: CostInputs = {
    batchSize: 20,
    eventBytes: 1000,
    wruPerEvent: 1,
    rruPerEvent: 0,
    busEventsPerEvent: 0,
    collectCpuMs: 2,
    dynamoCallsPerEvent: 1,
    callMs: ASSUMED_CALL_MS,
  };

  test('prices each service per million events', () => {
    const c = costPerMillionEvents({ ...base, callMs: { dynamo: 5, sqsSendBatch: 10, eventBridgePut: 15 } });
    // 50,000 requests at $1/M
    expect(c.byService.apiGateway).toBeCloseTo(0.05, 10);
    // 50,000 collect + 10,000 stitch (batches of 100) + 10,000 evaluate invocations at $0.20/M, plus
    // 50,000 × 22 ms × 0.5 GB + 1,000,000 × 5 ms × 0.5 GB = 3,050 GB-s at $0.0000133334
    expect(c.byService.lambda).toBeCloseTo(0.014 + 3050 * 0.0000133334, 10);
    // Stitch batches of 10: 100,000 stitch invocations; the SQS requests stay one receive and one delete per 10 messages.
    const small = costPerMillionEvents({ ...base, stitchBatchSize: 10, callMs: { dynamo: 5, sqsSendBatch: 10, eventBridgePut: 15 } });
    expect(small.byService.lambda).toBeCloseTo(0.032 + 3050 * 0.0000133334, 10);
    expect(small.byService.sqs).toBeCloseTo(0.12, 10);
    // 2 sends per request + a receive and a delete per 10 messages = 300,000 requests at $0.40/M
    expect(c.byService.sqs).toBeCloseTo(0.12, 10);
    expect(c.byService.dynamodb).toBeCloseTo(0.625, 10);
    expect(c.byService.eventBridge).toBe(0);
    expect(c.total).toBeCloseTo(0.05 + 0.014 + 3050 * 0.0000133334 + 0.12 + 0.625, 10);
  });

  test('reads, bus events and larger requests add what they cost', () => {
    const c = costPerMillionEvents({ ...base, rruPerEvent: 4, busEventsPerEvent: 0.5 });
    expect(c.byService.dynamodb).toBeCloseTo(0.625 + 0.5, 10);
    expect(c.byService.eventBridge).toBeCloseTo(0.5, 10);
    // 20 events of 40 KB: each SendMessageBatch of 10 is 400 KB = 7 chunks of 64 KB.
    const big = costPerMillionEvents({ ...base, eventBytes: 40_000 });
    expect(big.byService.apiGateway).toBeCloseTo(0.05 * 2, 10);
    expect(big.byService.sqs).toBeGreaterThan(c.byService.sqs);
  });

  test('batch 1 costs more than batch 20; the floor stores one item per event and reads nothing', () => {
    const one = costPerMillionEvents({ ...base, batchSize: 1 });
    const twenty = costPerMillionEvents(base);
    expect(one.total).toBeGreaterThan(twenty.total);
    expect(one.byService.apiGateway).toBeCloseTo(1, 10);
    const heavy = { ...base, wruPerEvent: 3, rruPerEvent: 3, dynamoCallsPerEvent: 6 };
    const floor = costPerMillionEvents(floorInputs(heavy));
    expect(floor.byService.dynamodb).toBeCloseTo(0.625, 10);
    expect(costPerMillionEvents(heavy).total / floor.total).toBeGreaterThan(1);
    expect(floor.total).toBeCloseTo(twenty.total, 10);
  });
});
