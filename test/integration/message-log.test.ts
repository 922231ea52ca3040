/**
 * Dedupe markers on DynamoDB Local: first claim wins, repeats get the first timestamp, an expired
 * marker counts as new; and a repeat after a crash half-way still gets its event stored once.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoMessageLog } from '../../adapters/dynamo/message-log';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { dedupe } from '../../app/dedupe';
import { stitch } from '../../app/stitch';
import type { ScherpEvent } from '../../core/events';
import { createTestTable, type TestTable } from '../helpers/dynamo';

let t: TestTable;
beforeAll(async () => {
  t = await createTestTable('msglog');
});
afterAll(() => t.drop());

describe('DynamoMessageLog', () => {
  it('first claim wins; a repeat gets the first timestamp; sources are separate', async () => {
    const log = new DynamoMessageLog(t.doc, { tableName: t.tableName });
    expect(await log.claim('src_a', 'm#1', '2026-01-01T00:00:00.000Z')).toBeUndefined();
    expect(await log.claim('src_a', 'm#1', '2026-01-01T00:00:09.000Z')).toBe('2026-01-01T00:00:00.000Z');
    expect(await log.claim('src_b', 'm#1', '2026-01-01T00:00:09.000Z')).toBeUndefined();
  });

  it('a marker past its window counts as new', async () => {
    const old = new DynamoMessageLog(t.doc, { tableName: t.tableName, windowDays: 1, now: () => new Date(Date.now() - 3 * 86_400_000) });
    const log = new DynamoMessageLog(t.doc, { tableName: t.tableName, windowDays: 1 });
    expect(await old.claim('src_a', 'old', '2026-01-01T00:00:00.000Z')).toBeUndefined();
    expect(await log.claim('src_a', 'old', '2026-02-01T00:00:00.000Z')).toBeUndefined();
  });

  it('a repeat after a crash between marker and timeline stores the event once, at the first timestamp', async () => {
    const log = new DynamoMessageLog(t.doc, { tableName: t.tableName });
    const store = new DynamoProfileStore(t.doc, { tableName: t.tableName });
    const first: ScherpEvent = {
      type: 'track',
      event: 'E',
      userId: 'crash-user',
      messageId: 'crash-1',
      sourceId: 'src_a',
      timestamp: '2026-01-01T00:00:00.000Z',
      receivedAt: '2026-01-01T00:00:00.000Z',
    };
    await dedupe(log, first); // …and the worker dies before stitching.
    const retry = { ...first, timestamp: '2026-01-01T00:00:07.000Z', receivedAt: '2026-01-01T00:00:07.000Z' };
    const d = await dedupe(log, retry);
    expect(d).toMatchObject({ seen: true, event: { timestamp: '2026-01-01T00:00:00.000Z' } });
    expect((await stitch(store, d.event)).duplicate).toBe(false);
    const again = await dedupe(log, { ...retry, timestamp: '2026-01-01T00:00:09.000Z' });
    expect((await stitch(store, again.event)).duplicate).toBe(true);
    const items = (await t.doc.send(new ScanCommand({ TableName: t.tableName }))).Items ?? [];
    expect(items.filter((i) => i.mid === 'crash-1').map((i) => i.sk)).toEqual(['EV#2026-01-01T00:00:00.000Z#crash-1']);
  });
});
