/**
 * File import (the drop bucket in the cloud, `.scherp/bucket/` locally): a file dropped under
 * `imports/<source>/` is read line by line and queued in chunks of at most 1,000 rows, exactly
 * like `POST /v1/import` (same parser, same message ids, so importing a file again changes
 * nothing). Rows without a timestamp get the file's write time, so a repeat is identical too.
 *
 * A file too big for one run stops after a chunk when time runs short and sends a job that goes
 * on from that byte offset; a run that fails is retried from the offset it started at (rows sent
 * twice are dropped by ingestion deduplication). The report `reports/<source>/<name>.json`
 * shows progress and, at the end, the counts and the rejected rows by line.
 */
import type { ScherpConfig } from '../core/config';
import { NotFoundError } from '../core/errors';
import { MAX_IMPORT_ROWS, parseImport, type ImportFormat } from '../core/import';
import { addErrors, etagValue, importTarget, type ImportJob, type ImportReport } from '../core/import-job';
import { linesWithOffsets } from '../core/lines';
import type { Source } from '../core/sources';
import { findSource, queueRows } from './import';
import type { EventQueue, ImportJobQueue, ObjectStore, SourceStore } from './ports';

export interface FileImportDeps {
  readonly objects: ObjectStore;
  readonly queue: EventQueue;
  readonly sources: SourceStore;
  readonly config: ScherpConfig;
  readonly jobs: ImportJobQueue;
  readonly now?: () => Date;
  /** Rows queued per chunk. @default 1,000 */
  readonly chunkRows?: number;
  /** Time kept in reserve: with less left after a chunk, the rest goes to a new job. @default 60 s */
  readonly reserveMs?: number;
}

export interface FileImportOutcome {
  /** `continued`: a job with the rest was sent; `skipped`: the file was replaced or deleted meanwhile. */
  readonly status: ImportReport['status'] | 'continued' | 'skipped';
  readonly report?: ImportReport;
}

const DEFAULT_RESERVE_MS = 60_000;

/** Runs (part of) one import job; `timeLeftMs` is the invocation's remaining time. */
export async function runImportJob(
  deps: FileImportDeps,
  start: ImportJob,
  timeLeftMs: () => number = () => Infinity,
): Promise<FileImportOutcome> {
  const now = () => (deps.now?.() ?? new Date()).toISOString();
  const target = importTarget(start.key);
  const fail = async (reason: string, reportKey: string | undefined, sourceId?: string): Promise<FileImportOutcome> => {
    const report = reportOf(start, 'failed', now(), { reason, sourceId });
    if (reportKey) await deps.objects.putJson(reportKey, report);
    return { status: 'failed', report };
  };
  if (!target.ok) return fail(target.reason, target.reportKey);
  let source: Source;
  try {
    source = await findSource(deps.sources, target.source);
  } catch (err) {
    if (err instanceof NotFoundError) return fail(err.message, target.reportKey);
    throw err;
  }
  const file = await deps.objects.read(start.key, start.offset);
  // Reads quote the ETag, notifications do not: compare the bare values.
  const version = file && etagValue(file.info.etag);
  if (!file || (start.etag !== undefined && version !== etagValue(start.etag))) return { status: 'skipped' };

  const format: ImportFormat = target.format;
  const chunkRows = Math.min(deps.chunkRows ?? MAX_IMPORT_ROWS, MAX_IMPORT_ROWS);
  const reserve = deps.reserveMs ?? DEFAULT_RESERVE_MS;
  let job: ImportJob = { ...start, etag: version! };
  const report = (status: ImportReport['status']) => reportOf(job, status, now(), { sourceId: source.id });

  // Lines read but not yet queued (contiguous, so the chunk keeps the file's line numbers).
  let pending: string[] = [];
  let pendingRows = 0;
  let pendingFirst = job.line;
  let line = job.line;
  let offset = job.offset;
  const flush = async () => {
    if (pendingRows > 0) {
      // CSV: the header goes first, numbered as the line just before the chunk.
      const text = job.header !== undefined ? [job.header, ...pending].join('\n') : pending.join('\n');
      const firstLine = job.header !== undefined ? pendingFirst - 1 : pendingFirst;
      const r = await queueRows(deps, source, text, format, file.info.lastModified, firstLine);
      job = addErrors({ ...job, imported: job.imported + r.imported }, r.errors);
    }
    job = { ...job, offset, line };
    pending = [];
    pendingRows = 0;
    pendingFirst = line;
  };

  for await (const l of linesWithOffsets(file.body, start.offset)) {
    const lineNo = line;
    line++;
    offset = l.end;
    if (l.tooLong) {
      // Keep the lines before it in their own chunk, then report it.
      await flush();
      job = addErrors(job, [{ line: lineNo, reason: 'line is too long (at most 256 KB)' }]);
      continue;
    }
    if (format === 'csv' && job.header === undefined) {
      if (l.text.trim() === '') {
        pendingFirst = line;
        continue;
      }
      const checked = parseImport(
        l.text,
        'csv',
        { sourceId: source.id, sourceName: source.name, receivedAt: file.info.lastModified, identity: deps.config.identity },
        lineNo,
      );
      if (checked.errors.length > 0) return fail(`line ${lineNo}: ${checked.errors[0]!.reason}`, target.reportKey, source.id);
      job = { ...job, header: l.text, offset, line };
      pendingFirst = line;
      continue;
    }
    pending.push(l.text);
    if (l.text.trim() !== '') pendingRows++;
    if (pendingRows >= chunkRows) {
      await flush();
      if (timeLeftMs() < reserve) {
        await deps.jobs.send(job);
        const running = report('running');
        await deps.objects.putJson(target.reportKey, running);
        return { status: 'continued', report: running };
      }
    }
  }
  await flush();
  const done = report('done');
  await deps.objects.putJson(target.reportKey, done);
  return { status: 'done', report: done };
}

/** The report of a job as it stands. */
function reportOf(
  job: ImportJob,
  status: ImportReport['status'],
  updatedAt: string,
  more: { readonly reason?: string; readonly sourceId?: string },
): ImportReport {
  return {
    key: job.key,
    status,
    ...(more.reason ? { reason: more.reason } : {}),
    ...(more.sourceId ? { sourceId: more.sourceId } : {}),
    ...(job.etag ? { etag: job.etag } : {}),
    imported: job.imported,
    errorCount: job.errorCount,
    errors: job.errors,
    lines: job.line - 1,
    startedAt: job.startedAt,
    updatedAt,
  };
}
