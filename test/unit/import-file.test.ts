/**
 * File import (drop bucket): the line reader with byte offsets, the key layout and queue
 * messages, the S3 adapter's ranged reads, and the import job, including that splitting a file over any number of runs gives
 * exactly the rows and errors of one run.
 */
import fc from 'fast-check';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../adapters/s3-objects';
import { runImportJob, type FileImportDeps } from '../../app/import-file';
import type { ImportJobQueue, ObjectInfo, ObjectStore, SourceStore } from '../../app/ports';
import { parseConfig } from '../../core/config';
import type { ScherpEvent } from '../../core/events';
import { parseImport } from '../../core/import';
import {
  importTarget,
  jobMessage,
  jobsOfMessage,
  MAX_REPORTED_ERRORS,
  newJob,
  type ImportJob,
  type ImportReport,
} from '../../core/import-job';
import { linesWithOffsets } from '../../core/lines';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderObjectStore } from '../../local/file-drop';
import type { Source } from '../../core/sources';

const enc = new TextEncoder();

async function* chunked(bytes: Uint8Array, cuts: readonly number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (const c of [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b)) {
    yield bytes.slice(at, c);
    at = c;
  }
  if (at < bytes.length) yield bytes.slice(at);
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('linesWithOffsets', () => {
  const lineArb = fc.array(fc.string({ unit: fc.constantFrom('a', 'é', '€', '𝄞', ',', '"', ' ', '\r') }), { maxLength: 8 });

  it('gives the lines of any chunking, each ending at the byte after its line break; resuming at an end gives the rest', async () => {
    await fc.assert(
      fc.asyncProperty(
        lineArb,
        fc.boolean(),
        fc.array(fc.nat({ max: 200 }), { maxLength: 6 }),
        fc.nat(),
        async (lines, crlf, cuts, pick) => {
          const text = lines.join(crlf ? '\r\n' : '\n');
          const bytes = enc.encode(text);
          const got = await collect(linesWithOffsets(chunked(bytes, cuts)));
          // The oracle: split on \n, one trailing \r off each line, no line after a final \n.
          const parts = text.split('\n');
          if (parts[parts.length - 1] === '') parts.pop();
          let end = 0;
          const expected = parts.map((p, i) => {
            end += enc.encode(p).length + (i < parts.length - 1 || text.endsWith('\n') ? 1 : 0);
            return { text: p.replace(/\r$/, ''), end };
          });
          expect(got).toEqual(expected);
          if (got.length > 0) {
            const from = got[pick % got.length]!.end;
            const rest = await collect(linesWithOffsets(chunked(bytes.slice(from), cuts), from));
            expect(rest).toEqual(got.slice((pick % got.length) + 1));
          }
        },
      ),
    );
  });

  it('cuts a line longer than the bound without keeping it, and goes on after it', async () => {
    const text = `short\n${'x'.repeat(100)}\nafter\n`;
    const got = await collect(linesWithOffsets(chunked(enc.encode(text), [3, 50, 104]), 0, 10));
    expect(got).toEqual([
      { text: 'short', end: 6 },
      { text: '', end: 107, tooLong: true },
      { text: 'after', end: 113 },
    ]);
  });

  it('drops a UTF-8 byte-order mark at the start', async () => {
    const got = await collect(linesWithOffsets(chunked(enc.encode('\uFEFFemail,plan\nx'), [])));
    expect(got.map((l) => l.text)).toEqual(['email,plan', 'x']);
  });
});

describe('bucket layout and queue messages', () => {
  it('takes the source from the first folder and the format from the extension', () => {
    expect(importTarget('imports/crm/2026/people.CSV')).toEqual({
      ok: true,
      source: 'crm',
      format: 'csv',
      reportKey: 'reports/crm/2026/people.CSV.json',
    });
    expect(importTarget('imports/crm/a.jsonl')).toMatchObject({ ok: true, format: 'ndjson' });
    expect(importTarget('imports/crm/a.xlsx')).toEqual({
      ok: false,
      reason: expect.stringContaining('.csv, .ndjson or .jsonl'),
      reportKey: 'reports/crm/a.xlsx.json',
    });
    expect(importTarget('imports/people.csv')).toMatchObject({ ok: false, reason: expect.stringContaining('imports/<source>/<file>') });
    expect(importTarget('reports/crm/a.csv.json')).toMatchObject({ ok: false });
  });

  it('reads bucket notifications (URL-encoded keys), continuation jobs and test events; refuses anything else', () => {
    const now = '2026-11-29T00:00:00.000Z';
    const notification = {
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: 'b' }, object: { key: 'imports/crm/my+file%C3%A9.csv', eTag: 'e1', size: 10 } },
        },
        { eventName: 'ObjectRemoved:Delete', s3: { bucket: { name: 'b' }, object: { key: 'imports/crm/x.csv' } } },
        { eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'other' }, object: { key: 'imports/crm/y.csv' } } },
      ],
    };
    expect(jobsOfMessage(JSON.stringify(notification), 'b', now)).toEqual([newJob('imports/crm/my fileé.csv', now, 'e1')]);
    const job: ImportJob = { ...newJob('imports/crm/a.csv', now, 'e'), offset: 10, line: 3, header: 'email,plan', imported: 1 };
    expect(jobsOfMessage(jobMessage(job), 'b', now)).toEqual([job]);
    expect(jobsOfMessage(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent' }), 'b', now)).toEqual([]);
    expect(jobsOfMessage('{nope', 'b', now)).toBeUndefined();
    expect(jobsOfMessage(JSON.stringify({ scherpImportJob: { key: 'x' } }), 'b', now)).toBeUndefined();
  });
});

/** An in-memory bucket whose reads stream in small chunks. */
class MemoryObjects implements ObjectStore {
  readonly files = new Map<string, { bytes: Uint8Array; info: ObjectInfo }>();
  readonly reports = new Map<string, ImportReport>();
  put(key: string, text: string, etag = 'v1'): void {
    this.files.set(key, { bytes: enc.encode(text), info: { etag, lastModified: '2026-11-01T00:00:00.000Z' } });
  }
  async read(key: string, fromByte: number) {
    const f = this.files.get(key);
    if (!f) return undefined;
    const rest = f.bytes.slice(fromByte);
    return { info: f.info, body: chunked(rest, [7, 19, 64, 200]) };
  }
  async putJson(key: string, value: unknown): Promise<void> {
    this.reports.set(key, value as ImportReport);
  }
}

const CRM: Source = { id: 'src_crm', name: 'crm', party: 'second', createdAt: '2026-01-01T00:00:00.000Z' };
const sources = {
  getSource: async (id: string) => (id === CRM.id ? { source: CRM, keys: [] } : undefined),
  listSources: async () => [{ source: CRM, keys: [] }],
} as unknown as SourceStore;

function harness(objects: MemoryObjects, opts: { chunkRows?: number; timeLeft?: () => number } = {}) {
  const queued: ScherpEvent[] = [];
  const jobs: ImportJob[] = [];
  const jobQueue: ImportJobQueue = { send: async (j) => void jobs.push(JSON.parse(JSON.stringify(j))) };
  const deps: FileImportDeps = {
    objects,
    queue: { send: async (e) => void queued.push(...e) },
    sources,
    config: parseConfig(undefined),
    jobs: jobQueue,
    chunkRows: opts.chunkRows,
    reserveMs: 1000,
    now: () => new Date('2026-11-29T12:00:00.000Z'),
  };
  /** Runs the job and every continuation it leaves, as the queue would. */
  const runAll = async (key: string) => {
    let r = await runImportJob(deps, newJob(key, '2026-11-29T12:00:00.000Z', 'v1'), opts.timeLeft);
    let runs = 1;
    while (r.status === 'continued') {
      r = await runImportJob(deps, jobs.shift()!, opts.timeLeft);
      runs++;
    }
    return { outcome: r, runs };
  };
  return { deps, queued, jobs, runAll };
}

describe('runImportJob', () => {
  const rowArb = fc.oneof(
    fc.nat({ max: 50 }).map((n) => `u${n}@example.com,gold,${n}`),
    fc.constant('not-an-email,x,1'),
    fc.constant(''),
    fc.constant('"unterminated,x,1'),
  );

  it('splitting a file over any number of runs queues exactly the rows and reports exactly the errors of one run', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(rowArb, { maxLength: 40 }), fc.integer({ min: 1, max: 7 }), fc.boolean(), async (rows, chunkRows, crlf) => {
        const text = ['email,tier,score', ...rows].join(crlf ? '\r\n' : '\n');
        const oneRun = new MemoryObjects();
        oneRun.put('imports/crm/people.csv', text);
        const a = harness(oneRun);
        const ra = await a.runAll('imports/crm/people.csv');
        const split = new MemoryObjects();
        split.put('imports/crm/people.csv', text);
        // No time left after any chunk: every chunk ends its run with a continuation.
        const b = harness(split, { chunkRows, timeLeft: () => 0 });
        const rb = await b.runAll('imports/crm/people.csv');
        expect(b.queued.map((e) => e.messageId)).toEqual(a.queued.map((e) => e.messageId));
        expect(rb.outcome.report).toEqual(ra.outcome.report);
        // The same as the HTTP import of the whole text.
        const direct = parseImport(text, 'csv', {
          sourceId: CRM.id,
          party: CRM.party,
          sourceName: CRM.name,
          receivedAt: '2026-11-01T00:00:00.000Z',
          identity: parseConfig(undefined).identity,
        });
        expect(a.queued).toEqual(direct.events);
        expect(ra.outcome.report).toMatchObject({
          status: 'done',
          sourceId: CRM.id,
          imported: direct.events.length,
          errorCount: direct.errors.length,
          errors: direct.errors,
        });
        expect(split.reports.get('reports/crm/people.csv.json')).toEqual(rb.outcome.report);
      }),
      { numRuns: 60 },
    );
  });

  it('imports NDJSON by source name with the file time for rows without one; a repeat queues the same messages', async () => {
    const objects = new MemoryObjects();
    objects.put('imports/crm/a.ndjson', `${JSON.stringify({ id: 'user_id:1', traits: { tier: 'gold' } })}\n{bad\n`);
    const h = harness(objects);
    const { outcome } = await h.runAll('imports/crm/a.ndjson');
    expect(outcome.report).toMatchObject({
      status: 'done',
      imported: 1,
      errorCount: 1,
      errors: [{ line: 2, reason: 'not valid JSON' }],
      lines: 2,
    });
    expect(h.queued[0]).toMatchObject({
      type: 'identify',
      userId: '1',
      sourceId: CRM.id,
      party: 'second',
      timestamp: '2026-11-01T00:00:00.000Z',
    });
    await h.runAll('imports/crm/a.ndjson');
    expect(h.queued[1]).toEqual(h.queued[0]);
  });

  it('fails with a report for an unknown source, a bad header or a bad name; skips a replaced or deleted file', async () => {
    const objects = new MemoryObjects();
    objects.put('imports/nope/a.csv', 'email\nx@example.com');
    objects.put('imports/crm/b.csv', 'colour,size\nred,1');
    objects.put('imports/crm/c.txt', 'x');
    const h = harness(objects);
    expect((await h.runAll('imports/nope/a.csv')).outcome).toMatchObject({
      status: 'failed',
      report: { reason: expect.stringContaining('no source with the id or name "nope"') },
    });
    expect(objects.reports.get('reports/nope/a.csv.json')).toMatchObject({ status: 'failed' });
    expect((await h.runAll('imports/crm/b.csv')).outcome.report).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/^line 1: the header needs an id column/),
    });
    expect((await h.runAll('imports/crm/c.txt')).outcome.report).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining('.csv'),
    });
    objects.put('imports/crm/d.csv', 'email\nx@example.com', 'v2');
    expect((await h.runAll('imports/crm/d.csv')).outcome.status).toBe('skipped');
    expect((await h.runAll('imports/crm/missing.csv')).outcome.status).toBe('skipped');
    expect(h.queued).toEqual([]);
  });

  it('lists at most the first errors and counts the rest', async () => {
    const objects = new MemoryObjects();
    objects.put('imports/crm/bad.ndjson', Array.from({ length: MAX_REPORTED_ERRORS + 20 }, () => '{bad').join('\n'));
    const h = harness(objects, { chunkRows: 100, timeLeft: () => 0 });
    const { outcome, runs } = await h.runAll('imports/crm/bad.ndjson');
    expect(runs).toBe(6);
    expect(outcome.report).toMatchObject({ status: 'done', errorCount: MAX_REPORTED_ERRORS + 20 });
    expect(outcome.report!.errors).toHaveLength(MAX_REPORTED_ERRORS);
  });
});

describe('S3ObjectStore', () => {
  const s3Error = (code: number) => new S3ServiceException({ name: `E${code}`, $fault: 'client', $metadata: { httpStatusCode: code } });
  const lastModified = new Date('2026-11-01T00:00:00.000Z');

  it('reads from a byte offset with a Range request and gives the version', async () => {
    const sent: Record<string, unknown>[] = [];
    const store = new S3ObjectStore(
      {
        send: async (c: { input: Record<string, unknown> }) => (
          sent.push(c.input), { ETag: '"e1"', LastModified: lastModified, Body: chunked(enc.encode('b\n'), []) }
        ),
      } as never,
      'bkt',
    );
    const r = await store.read('imports/crm/a.csv', 10);
    expect(sent).toEqual([{ Bucket: 'bkt', Key: 'imports/crm/a.csv', Range: 'bytes=10-' }]);
    expect(r!.info).toEqual({ etag: '"e1"', lastModified: '2026-11-01T00:00:00.000Z' });
    expect((await collect(linesWithOffsets(r!.body, 10))).map((l) => l.text)).toEqual(['b']);
    await store.read('imports/crm/a.csv', 0);
    expect(sent[1]).toEqual({ Bucket: 'bkt', Key: 'imports/crm/a.csv' });
  });

  it('a missing file is undefined; an offset at the end gives an empty body; other errors throw', async () => {
    const answers: (unknown | Error)[] = [];
    const store = new S3ObjectStore(
      {
        send: async () => {
          const a = answers.shift();
          if (a instanceof Error) throw a;
          return a;
        },
      } as never,
      'bkt',
    );
    answers.push(s3Error(404));
    expect(await store.read('k', 0)).toBeUndefined();
    answers.push(s3Error(416), { ETag: '"e2"', LastModified: lastModified });
    const end = await store.read('k', 99);
    expect(end!.info.etag).toBe('"e2"');
    expect(await collect(end!.body)).toEqual([]);
    answers.push(s3Error(416), s3Error(404));
    expect(await store.read('k', 99)).toBeUndefined();
    answers.push(s3Error(500));
    await expect(store.read('k', 0)).rejects.toThrow();
  });
});

describe("S3's formats, as the local bucket gives them", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'scherp-etag-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const drop = (key: string, text: string) => {
    mkdirSync(join(root, ...key.split('/').slice(0, -1)), { recursive: true });
    writeFileSync(join(root, ...key.split('/')), text);
  };

  it('a notification (eTag unquoted) imports the file GetObject reads (ETag quoted): not skipped', async () => {
    const objects = new FolderObjectStore(root);
    drop('imports/crm/a.ndjson', `${JSON.stringify({ id: 'user_id:1', traits: { tier: 'gold' } })}\n`);
    const quoted = objects.info('imports/crm/a.ndjson')!.etag;
    expect(quoted).toMatch(/^".+"$/);
    const notification = {
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: 'b' }, object: { key: 'imports/crm/a.ndjson', eTag: quoted.slice(1, -1) } },
        },
      ],
    };
    const [job] = jobsOfMessage(JSON.stringify(notification), 'b', '2026-11-29T12:00:00.000Z')!;
    const h = harness(objects as never);
    const r = await runImportJob(h.deps, job!);
    expect(r.status).toBe('done');
    expect(r.report).toMatchObject({ imported: 1, etag: quoted.slice(1, -1) });
    expect(objects.readJson<ImportReport>('reports/crm/a.ndjson.json')).toMatchObject({ status: 'done', imported: 1 });
  });

  it('403 or 404 as S3 answers the importer role: a missing file under imports/ (listable) is gone, elsewhere access is denied', async () => {
    const objects = new FolderObjectStore(root);
    expect(await objects.read('imports/crm/missing.csv', 0)).toBeUndefined();
    await expect(objects.read('other/x.csv', 0)).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    await expect(objects.putJson('imports/crm/x.json', {})).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    // Without ListBucket S3 hides whether the key exists: 403 for a missing key too.
    const noList = new FolderObjectStore(root, { read: 'imports/', list: 'nothing/', write: 'reports/' });
    await expect(noList.read('imports/crm/missing.csv', 0)).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
  });
});
