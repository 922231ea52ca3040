/**
 * File imports (the drop bucket): where a dropped file's source and format come from, the job
 * that imports it (started by the bucket's notification, continued by a job message when one
 * run of the function is not enough), and the report written next to it. Pure.
 *
 * Layout of the bucket (and of the local folder `.scherp/bucket/`):
 *   imports/<source id or name>/<any name>.csv | .ndjson | .jsonl   files to import
 *   reports/<source id or name>/<any name>.json                      one report per file
 */
import * as z from 'zod';
import type { ImportFormat, ImportRowError } from './import';
import { dict, own } from './dict';

export const IMPORTS_PREFIX = 'imports/';
export const REPORTS_PREFIX = 'reports/';

/** Errors listed in a report (and carried by a job); the rest are only counted. */
export const MAX_REPORTED_ERRORS = 500;

const RowErrorSchema = z.object({ line: z.number().int().positive(), reason: z.string() });

/** One import of one file, from a byte offset on. */
export const ImportJobSchema = z.object({
  /** The file's key (`imports/<source>/<name>`). */
  key: z.string().min(1),
  /** The version being imported: a file replaced meanwhile is left to its own notification. */
  etag: z.string().optional(),
  /** Where to go on: byte offset and the line number found there. */
  offset: z.number().int().nonnegative(),
  line: z.number().int().positive(),
  /** CSV: the header, read by the first run. */
  header: z.string().optional(),
  imported: z.number().int().nonnegative(),
  errorCount: z.number().int().nonnegative(),
  errors: z.array(RowErrorSchema).max(MAX_REPORTED_ERRORS),
  startedAt: z.string(),
});
export type ImportJob = z.infer<typeof ImportJobSchema>;

/** The part of an S3 event notification (`s3:ObjectCreated:*`) an import needs. */
const S3NotificationSchema = z.object({
  Records: z.array(
    z.object({
      eventName: z.string(),
      eventTime: z.string().optional(),
      s3: z.object({
        bucket: z.object({ name: z.string() }),
        object: z.object({ key: z.string(), eTag: z.string().optional(), size: z.number().optional() }),
      }),
    }),
  ),
});

const JobMessageSchema = z.object({ scherpImportJob: ImportJobSchema });

/** The body of a job message (a continuation). */
export function jobMessage(job: ImportJob): string {
  return JSON.stringify({ scherpImportJob: job });
}

export function newJob(key: string, startedAt: string, etag?: string): ImportJob {
  return { key, ...(etag ? { etag } : {}), offset: 0, line: 1, imported: 0, errorCount: 0, errors: [], startedAt };
}

/**
 * The jobs one message of the import queue asks for: a continuation, or one job per created
 * object of a bucket notification (`s3:TestEvent` and other buckets' objects: none).
 * Undefined for a body that is neither (it cannot succeed on a retry).
 */
export function jobsOfMessage(body: string, bucket: string, now: string): ImportJob[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const job = JobMessageSchema.safeParse(parsed);
  if (job.success) return [job.data.scherpImportJob];
  if ((parsed as { Event?: unknown } | null)?.Event === 's3:TestEvent') return [];
  const n = S3NotificationSchema.safeParse(parsed);
  if (!n.success) return undefined;
  return n.data.Records.filter((r) => r.eventName.startsWith('ObjectCreated:') && r.s3.bucket.name === bucket).map((r) =>
    newJob(s3Key(r.s3.object.key), now, r.s3.object.eTag),
  );
}

/**
 * An object version as S3 names it, without the quotes: `GetObject` and `HeadObject` give the
 * ETag quoted (`"9b2c…"`), an event notification's `eTag` has none (`9b2c…`).
 */
export function etagValue(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

/**
 * What the importer's role may do in the bucket (lib/file-import.ts grants exactly this; the
 * local bucket enforces it): read files under `imports/`, list that prefix (so a missing file is
 * a 404, not a 403), write reports under `reports/`.
 */
export const IMPORT_BUCKET_ACCESS = { read: IMPORTS_PREFIX, list: IMPORTS_PREFIX, write: REPORTS_PREFIX } as const;

/** Keys in S3 notifications are URL-encoded with `+` for a space. */
export function s3Key(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

export type ImportTarget =
  | { readonly ok: true; readonly source: string; readonly format: ImportFormat; readonly reportKey: string }
  | { readonly ok: false; readonly reason: string; readonly reportKey?: string };

const FORMATS: Readonly<Record<string, ImportFormat>> = dict({ csv: 'csv', ndjson: 'ndjson', jsonl: 'ndjson' });

/** What a key under `imports/` asks for: its source (first folder) and format (extension). */
export function importTarget(key: string): ImportTarget {
  if (!key.startsWith(IMPORTS_PREFIX)) return { ok: false, reason: `only files under ${IMPORTS_PREFIX} are imported` };
  const rest = key.slice(IMPORTS_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1)
    return { ok: false, reason: `put the file in a folder named after its source: ${IMPORTS_PREFIX}<source>/<file>` };
  const reportKey = `${REPORTS_PREFIX}${rest}.json`;
  const ext = /\.([a-z]+)$/i.exec(rest)?.[1]?.toLowerCase();
  const format = ext ? own(FORMATS, ext) : undefined;
  if (!format) return { ok: false, reason: 'the file name must end in .csv, .ndjson or .jsonl', reportKey };
  return { ok: true, source: rest.slice(0, slash), format, reportKey };
}

/** The report of one file's import, written as it goes and when it ends. */
export interface ImportReport {
  readonly key: string;
  readonly status: 'running' | 'done' | 'failed';
  /** Why the file could not be imported at all (status `failed`). */
  readonly reason?: string;
  readonly sourceId?: string;
  readonly etag?: string;
  /** Rows queued. */
  readonly imported: number;
  /** Rows rejected; the first {@link MAX_REPORTED_ERRORS} are listed in `errors`. */
  readonly errorCount: number;
  readonly errors: readonly ImportRowError[];
  /** Lines read so far. */
  readonly lines: number;
  readonly startedAt: string;
  readonly updatedAt: string;
}

/** Adds a chunk's errors to a job's, keeping the listed ones bounded. */
export function addErrors(job: ImportJob, errors: readonly ImportRowError[]): ImportJob {
  if (errors.length === 0) return job;
  const room = MAX_REPORTED_ERRORS - job.errors.length;
  return { ...job, errorCount: job.errorCount + errors.length, errors: room > 0 ? [...job.errors, ...errors.slice(0, room)] : job.errors };
}
