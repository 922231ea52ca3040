import { mkdtempSync, readFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalQueue } from '../../local/queue';
import type { ScherpEvent } from '../../core/events';

const ev = (id: string) => ({ messageId: id }) as ScherpEvent;
const ids = (q: LocalQueue) =>
  new Promise<string[]>((resolve) => {
    const seen: string[] = [];
    void q
      .drainOnce(async (e) => {
        seen.push(...e.Records.map((r) => (JSON.parse(r.body) as ScherpEvent).messageId));
      })
      .then(() => resolve(seen));
  });

describe('journaled local queue', () => {
  it('a new queue on the same journal gets back every undeleted message, once', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'scherp-q-')), 'queue.jsonl');
    const q1 = new LocalQueue({ journalFile: file });
    await q1.send([ev('a'), ev('b')]);
    expect(await ids(q1)).toEqual(['a', 'b']); // delivered and deleted
    await q1.send([ev('c'), ev('d')]);
    // The process dies here: no stop(), nothing flushed beyond what send() fsynced.
    appendFileSync(file, '{"op":"send","id":"torn'); // a write cut off by the crash
    const q2 = new LocalQueue({ journalFile: file });
    expect(q2.depth).toBe(2);
    expect(await ids(q2)).toEqual(['c', 'd']);
    await q2.stop();
    const q3 = new LocalQueue({ journalFile: file });
    expect(q3.depth).toBe(0);
    await q3.stop();
    expect(readFileSync(file, 'utf8')).toBe('');
  });
});
