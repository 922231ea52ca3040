import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { payloadPreview } from '../../app/collect';
import type { RejectedRecord } from '../../app/ports';
import { payloadMatcher } from '../../core/mentions';
import { JsonlRejectedStore } from '../../local/rejected';
import { MemoryRejectedStore } from '../helpers/collect';

let n = 0;
const record = (
  payload: unknown,
  issues: RejectedRecord['issues'] = [{ path: 'event', message: 'is required for track' }],
): RejectedRecord => ({
  sourceId: 'web',
  route: 'track',
  index: 0,
  issues,
  payload: payloadPreview(payload),
  receivedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, ++n)).toISOString(),
  requestId: `req-${n}`,
});
const ada = payloadMatcher([
  { type: 'user_id', value: 'u-ada-1815' },
  { type: 'email', value: 'ada@example.com' },
]);

describe('JsonlRejectedStore erasure', () => {
  function setup() {
    const dir = mkdtempSync(join(tmpdir(), 'scherp-rejected-'));
    const inner = new MemoryRejectedStore();
    return { dir, file: join(dir, 'rejected.jsonl'), inner, store: new JsonlRejectedStore(inner, join(dir, 'rejected.jsonl')) };
  }

  it('erases from the table and rewrites the file without the matching lines; the other lines stay as they were', async () => {
    const { dir, file, inner, store } = setup();
    const bob = record({ type: 'track', userId: 'u-bob-2' });
    const bob2 = record({ type: 'identify', traits: { email: 'bob@example.com' } });
    await store.save([record({ type: 'track', userId: 'u-ada-1815' }), bob]);
    await store.save([record({ type: 'identify', traits: { email: 'ADA@Example.com' } }), bob2]);
    // A record naming her only in an issue path (a trait keyed by her email).
    await store.save([record({ type: 'identify', traits: {} }, [{ path: 'traits.ada@example.com', message: 'must be a string' }])]);
    const before = readFileSync(file, 'utf8').split('\n');

    expect(await store.listMatching(ada)).toHaveLength(3);
    expect(await store.eraseMatching(ada)).toBe(3);
    expect(inner.records).toEqual([bob, bob2]);
    const after = readFileSync(file, 'utf8');
    expect(after).toBe(`${[before[1], before[3]].join('\n')}\n`);
    expect(after.toLowerCase()).not.toContain('ada');
    // Only the file is left in the directory: the temporary file was renamed over it.
    expect(readdirSync(dir)).toEqual(['rejected.jsonl']);

    // A repeat finds nothing; later records are appended as before.
    expect(await store.eraseMatching(ada)).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(after);
    await store.save([record({ type: 'track', userId: 'u-carol-3' })]);
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(3);
  });

  it('also removes lines the table no longer has (the file is never cut by TTL) and lines that are not records', async () => {
    const { file, store } = setup();
    const kept = JSON.stringify(record({ type: 'track', userId: 'u-bob-2' }));
    writeFileSync(file, [JSON.stringify(record({ userId: 'u-ada-1815' })), 'garbage naming ada@example.com', kept, ''].join('\n'));
    expect(await store.eraseMatching(ada)).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(`${kept}\n`);
  });

  it('without a file, or when nothing matches, leaves the file system alone', async () => {
    const { dir, file, store } = setup();
    expect(await store.eraseMatching(ada)).toBe(0);
    expect(existsSync(file)).toBe(false);
    await store.save([record({ type: 'track', userId: 'u-bob-2' })]);
    const text = readFileSync(file, 'utf8');
    expect(await store.eraseMatching(ada)).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(readdirSync(dir)).toEqual(['rejected.jsonl']);
  });
});

describe('JsonlRejectedStore retention (issue 18 item 6)', () => {
  it('drops records older than the retention at start and hourly while saving; newer lines and other lines stay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scherp-rejected-'));
    const file = join(dir, 'rejected.jsonl');
    const at = (iso: string) => ({ ...record({ type: 'track', userId: 'u-x' }), receivedAt: iso });
    const old = JSON.stringify(at('2026-01-01T00:00:00.000Z'));
    const recent = JSON.stringify(at('2026-01-09T00:00:00.000Z'));
    writeFileSync(file, [old, recent, 'not a record', ''].join('\n'));
    let now = new Date('2026-01-10T00:00:00.000Z');
    const store = new JsonlRejectedStore(new MemoryRejectedStore(), file, { retentionDays: 7, now: () => now });
    expect(readFileSync(file, 'utf8')).toBe([recent, 'not a record', ''].join('\n'));
    // Nine days later (more than an hour since the last trim): the next save trims first.
    now = new Date('2026-01-18T00:00:00.000Z');
    const fresh = at('2026-01-18T00:00:00.000Z');
    await store.save([fresh]);
    expect(readFileSync(file, 'utf8')).toBe(['not a record', JSON.stringify(fresh), ''].join('\n'));
    rmSync(dir, { recursive: true, force: true });
  });
});
