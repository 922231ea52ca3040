import fc from 'fast-check';
import { connectedKeys, forEachByKey } from '../../app/batch';

describe('forEachByKey', () => {
  it('runs every item once, keeps each key in order, and never exceeds the concurrency', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.nat(3)), { maxLength: 30 }),
        fc.integer({ min: 1, max: 4 }),
        async (items, concurrency) => {
          const seen: [string, number][] = [];
          let running = 0;
          let peak = 0;
          const indexed = items.map(([k, delay], i) => ({ k, delay, i }));
          await forEachByKey(
            indexed,
            (x) => x.k,
            concurrency,
            async (x) => {
              running++;
              peak = Math.max(peak, running);
              await new Promise((r) => setTimeout(r, x.delay));
              seen.push([x.k, x.i]);
              running--;
            },
          );
          expect(seen.map(([, i]) => i).sort((a, b) => a - b)).toEqual(indexed.map((x) => x.i));
          for (const k of new Set(items.map(([key]) => key))) {
            const order = seen.filter(([key]) => key === k).map(([, i]) => i);
            expect(order).toEqual([...order].sort((a, b) => a - b));
          }
          expect(peak).toBeLessThanOrEqual(concurrency);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('connectedKeys', () => {
  it('gives items that share an id, directly or through others, one key', () => {
    const items = [['a:1'], ['a:1', 'u:7'], ['u:7'], ['a:2'], ['a:3', 'u:8'], ['u:8', 'a:4'], []];
    const keys = connectedKeys(items, (x) => x);
    const k = (i: number) => keys.get(items[i]!)!;
    expect(k(0)).toBe(k(1));
    expect(k(1)).toBe(k(2));
    expect(k(3)).not.toBe(k(0));
    expect(k(4)).toBe(k(5));
    expect(k(4)).not.toBe(k(3));
    expect(k(6)).not.toBe(k(0));
  });
});
