/**
 * The local import bucket: a file is handed over once it stood still for a poll and has no
 * report for its version; continuation jobs come back through the same loop; a failing file is
 * tried `maxAttempts` times; a file outside a source folder is reported once.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { jobsOfMessage } from '../../core/import-job';
import { FolderImporter, FolderObjectStore, LOCAL_BUCKET } from '../../local/file-drop';

const temp: string[] = [];
/** A temporary folder, removed after the tests (links in it are removed, not followed). */
const tempDir = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `scherp-${name}-`));
  temp.push(d);
  return d;
};
afterAll(() => temp.forEach((d) => rmSync(d, { recursive: true, force: true })));

function setup(opts: { fail?: boolean; root?: string } = {}) {
  const root = opts.root ?? tempDir('drop');
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

  it('imports from a bucket folder inside a dot folder (the default .scherp/bucket/)', async () => {
    const t = setup({ root: join(tempDir('drop'), '.scherp', 'bucket') });
    t.drop('imports/crm/people.csv', 'email\nx@example.com');
    expect(t.objects.list('imports/')).toEqual(['imports/crm/people.csv']);
    await t.importer.pollOnce(t.handler);
    await t.importer.pollOnce(t.handler);
    expect(t.seen).toEqual(['imports/crm/people.csv@0', 'imports/crm/people.csv@5']);
  });

  it('never follows a symbolic link: a linked file or folder is reported, not read, and no report is written through a link', async () => {
    const t = setup();
    const outside = tempDir('outside');
    writeFileSync(join(outside, 'secret.csv'), 'email\nsecret@example.com');
    mkdirSync(join(t.root, 'imports', 'crm'), { recursive: true });
    symlinkSync(join(outside, 'secret.csv'), join(t.root, 'imports', 'crm', 'linked.csv'));
    symlinkSync(outside, join(t.root, 'imports', 'partner'));
    for (let i = 0; i < 3; i++) await t.importer.pollOnce(t.handler);
    expect(t.seen).toEqual([]);
    expect(t.ignored.sort()).toEqual(['imports/crm/linked.csv', 'imports/partner']);
    expect(t.objects.info('imports/crm/linked.csv')).toBeUndefined();
    expect(await t.objects.read('imports/partner/secret.csv', 0)).toBeUndefined();
    // A reports folder that links elsewhere is not written through.
    mkdirSync(join(t.root, 'reports'), { recursive: true });
    symlinkSync(outside, join(t.root, 'reports', 'crm'));
    await expect(t.objects.putJson('reports/crm/x.csv.json', { status: 'failed' })).rejects.toThrow(/symbolic link/);
    expect(readdirSync(outside)).toEqual(['secret.csv']);
  });

  it('makes a source folder, but not through a link', () => {
    const t = setup();
    t.objects.createFolder('imports/crm/');
    expect(existsSync(join(t.root, 'imports', 'crm'))).toBe(true);
    symlinkSync(tempDir('outside'), join(t.root, 'imports', 'pos'));
    expect(() => t.objects.createFolder('imports/pos/')).toThrow(/symbolic link/);
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
