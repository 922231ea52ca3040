/**
 * The local import bucket: a file is handed over once it stood still for a poll and has no
 * report for its version; continuation jobs come back through the same loop; a failing file is
 * tried `maxAttempts` times; a file outside a source folder is reported once.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { jobsOfMessage } from '../../core/import-job';
import { FolderImporter, FolderObjectStore, LOCAL_BUCKET } from '../../local/file-drop';

function setup(opts: { fail?: boolean } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'scherp-drop-'));
  const objects = new FolderObjectStore(root);
  const seen: string[] = [];
  const gaveUp: string[] = [];
  const ignored: string[] = [];
  const importer = new FolderImporter({ objects, maxAttempts: 2, onGiveUp: (k) => gaveUp.push(k), onIgnored: (k) => ignored.push(k) });
  const drop = (key: string, text: string, mtime = new Date('2026-11-01T00:00:00Z')) => {
    const file = join(root, ...key.split('/'));
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text);
    utimesSync(file, mtime, mtime);
  };
  /** A handler that records jobs, writes a done report for finished ones, and continues a first run once. */
  const handler = async (event: SQSEvent) => {
    for (const r of event.Records) {
      for (const job of jobsOfMessage(r.body, LOCAL_BUCKET, 'now')!) {
        seen.push(`${job.key}@${job.offset}`);
        if (opts.fail) return { batchItemFailures: [{ itemIdentifier: r.messageId }] };
        if (job.offset === 0) await importer.send({ ...job, offset: 5, line: 2 });
        else await objects.putJson(`reports/${job.key.slice('imports/'.length)}.json`, { status: 'done', etag: job.etag });
      }
    }
    return { batchItemFailures: [] };
  };
  return { root, objects, importer, drop, handler, seen, gaveUp, ignored };
}

describe('FolderImporter', () => {
  it('imports a file once it stood still for a poll, runs its continuation, and not again until it changes', async () => {
    const t = setup();
    t.drop('imports/crm/a.csv', 'email\nx@example.com');
    await t.importer.pollOnce(t.handler);
    expect(t.seen).toEqual([]); // first sight: it may still be being written
    await t.importer.pollOnce(t.handler);
    expect(t.seen).toEqual(['imports/crm/a.csv@0', 'imports/crm/a.csv@5']);
    await t.importer.pollOnce(t.handler);
    expect(t.seen).toHaveLength(2);
    t.drop('imports/crm/a.csv', 'email\ny@example.com', new Date('2026-11-02T00:00:00Z'));
    await t.importer.pollOnce(t.handler);
    await t.importer.pollOnce(t.handler);
    expect(t.seen).toHaveLength(4);
  });

  it('gives a failing file maxAttempts tries, then leaves it until it changes', async () => {
    const t = setup({ fail: true });
    t.drop('imports/crm/b.ndjson', '{}');
    for (let i = 0; i < 8; i++) await t.importer.pollOnce(t.handler);
    expect(t.seen).toEqual(['imports/crm/b.ndjson@0', 'imports/crm/b.ndjson@0']);
    expect(t.gaveUp).toEqual(['imports/crm/b.ndjson']);
  });

  it('reports a file outside a source folder once and never hands it over', async () => {
    const t = setup();
    t.drop('imports/loose.csv', 'email');
    for (let i = 0; i < 3; i++) await t.importer.pollOnce(t.handler);
    expect(t.seen).toEqual([]);
    expect(t.ignored).toEqual(['imports/loose.csv']);
  });

  it('the folder store reads from an offset, lists without temp and dot files, and refuses ..', async () => {
    const t = setup();
    t.drop('imports/crm/c.csv', 'hello\nworld');
    t.drop('imports/crm/.hidden.csv', 'x');
    t.drop('imports/crm/d.csv.tmp', 'x');
    const r = await t.objects.read('imports/crm/c.csv', 6);
    const chunks: Buffer[] = [];
    for await (const c of r!.body) chunks.push(Buffer.from(c));
    expect(Buffer.concat(chunks).toString()).toBe('world');
    expect(r!.info.lastModified).toBe('2026-11-01T00:00:00.000Z');
    expect(t.objects.list('imports/')).toEqual(['imports/crm/c.csv']);
    expect(await t.objects.read('imports/crm/missing.csv', 0)).toBeUndefined();
    await expect(t.objects.read('imports/../keys.json', 0)).rejects.toThrow(/\.\./);
  });
});

describe('FolderImporter retention (issue 18 item 5)', () => {
  it('deletes files and reports written more than retentionDays ago, as the bucket lifecycle does; newer ones stay', async () => {
    const t = setup();
    let now = new Date('2026-11-20T00:00:00Z');
    const importer = new FolderImporter({ objects: t.objects, retentionDays: 30, now: () => now });
    t.drop('imports/crm/old.csv', 'email\nold@example.com', new Date('2026-10-01T00:00:00Z'));
    t.drop('reports/crm/old.csv.json', '{"status":"done"}', new Date('2026-10-01T00:00:00Z'));
    t.drop('imports/crm/new.csv', 'email\nnew@example.com', new Date('2026-11-15T00:00:00Z'));
    const noop = async () => ({ batchItemFailures: [] });
    await importer.pollOnce(noop);
    expect([...t.objects.list('imports/'), ...t.objects.list('reports/')]).toEqual(['imports/crm/new.csv']);
    // A month later (the sweep runs at most hourly): the newer file goes too.
    now = new Date('2026-12-20T00:00:00Z');
    await importer.pollOnce(noop);
    expect(t.objects.list('imports/')).toEqual([]);
    rmSync(t.root, { recursive: true, force: true });
  });
});
