/**
 * The `audience-export` job kind: every member of an audience as a row (user id and the hashes
 * ad platforms match on), beyond what one API response can carry (Lambda's 6 MB). A segment per
 * member shard; each page reads members until about `partBytes` of rows and writes them as one
 * file (`exports/<jobId>/<segment>-<n>.<ext>`, each CSV file with its header line) to the job
 * files store (S3 in the cloud, `.scherp/job-files/` locally), then checkpoints. A page worked
 * again after a lost checkpoint rewrites the same file with the same rows: idempotent. The
 * files are served by `GET /v1/jobs/{id}/files/{n}`.
 */
import { CSV_COLUMNS, csvLine, type ExportFormat, exportRow, MEMBER_SHARDS } from '../core/audiences';
import { NotFoundError, ValidationError } from '../core/errors';
import type { ExportResult, Job, JobFile, SegmentState } from '../core/jobs';
import { traitValues } from '../core/profile';
import { type JobSpec, type JobWorker, segmentWork, type WorkerDeps } from './job-work';
import type { JobFileStore, JobStore, MembershipReader, ProfileStore } from './ports';

/** Largest export file by default: well under Lambda's 6 MB response. */
export const DEFAULT_PART_BYTES = 4 * 1024 * 1024;
/** A generous size of one row (ids and three hex digests), to read no more members than a file holds. */
const ROW_BYTES_ESTIMATE = 400;

/** The job that exports an audience's members in `format`. */
export function exportJob(audienceId: string, format: ExportFormat): JobSpec {
  return { kind: 'audience-export', params: { audienceId, format }, segments: MEMBER_SHARDS };
}

export const contentTypeOf = (format: ExportFormat) => (format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');

/**
 * Members from `cursor` on as export lines, until about `maxBytes` or the end of `next`'s
 * listing; a member whose profile no longer exists (erased) or was merged away is left out.
 */
export async function exportLines(
  d: { readonly store: ProfileStore },
  format: ExportFormat,
  next: (limit: number, cursor: string | undefined) => ReturnType<MembershipReader['listShard']>,
  cursor: string | undefined,
  maxBytes: number,
): Promise<{ lines: string[]; profileIds: string[]; bytes: number; members: number; cursor?: string }> {
  const lines: string[] = [];
  const profileIds: string[] = [];
  let bytes = 0;
  let members = 0;
  let c = cursor;
  do {
    const limit = Math.max(1, Math.min(500, Math.floor((maxBytes - bytes) / ROW_BYTES_ESTIMATE)));
    const page = await next(limit, c);
    c = page.cursor;
    members += page.members.length;
    const profiles = await d.store.getProfiles(page.members.map((m) => m.profileId));
    for (const m of page.members) {
      const p = profiles.get(m.profileId)?.profile;
      if (!p || p.mergedInto) continue;
      const row = exportRow(p.id, p.identifiers, traitValues(p.traits));
      const line = format === 'csv' ? csvLine(row) : JSON.stringify(row);
      lines.push(line);
      profileIds.push(p.id);
      bytes += Buffer.byteLength(line) + 1;
    }
  } while (c && bytes < maxBytes - ROW_BYTES_ESTIMATE);
  return { lines, profileIds, bytes, members, ...(c ? { cursor: c } : {}) };
}

/** The body of a file of export lines (a CSV file starts with its header). */
export function exportBody(format: ExportFormat, lines: readonly string[]): string {
  const all = format === 'csv' ? [CSV_COLUMNS.join(','), ...lines] : lines;
  return all.length > 0 ? `${all.join('\n')}\n` : '';
}

const extOf = (format: ExportFormat) => (format === 'csv' ? 'csv' : 'ndjson');

export const exportWorker: JobWorker = {
  async prepare(d: WorkerDeps, job: Job) {
    const { members, files } = d;
    if (!members || !files) return 'exports are not configured here (no job files store)';
    const audienceId = String(job.params.audienceId);
    const format: ExportFormat = job.params.format === 'csv' ? 'csv' : 'ndjson';
    const partBytes = d.partBytes ?? DEFAULT_PART_BYTES;
    return segmentWork({
      read: async (state, cursor) => {
        const out = await exportLines(d, format, (limit, c) => members.listShard(audienceId, state.segment, limit, c), cursor, partBytes);
        // Member pages (about 8 members per unit) and a batch read of their roots.
        return { ...out, units: Math.ceil(out.members / 8) + out.members };
      },
      async work(out, state) {
        const written: JobFile[] = [];
        if (out.lines.length > 0) {
          const n = state.files?.length ?? 0;
          const key = `exports/${job.id}/${String(state.segment).padStart(4, '0')}-${String(n).padStart(5, '0')}.${extOf(format)}`;
          const body = exportBody(format, out.lines);
          await files.put(key, body, contentTypeOf(format));
          written.push({ key, rows: out.lines.length, bytes: Buffer.byteLength(body) });
        }
        for (const id of out.profileIds) d.onProfile?.(id);
        return { scanned: out.members, counts: { rows: out.lines.length }, files: written, units: 0 };
      },
    });
  },
  result(job: Job, segments: readonly SegmentState[]): ExportResult {
    const files = segments.flatMap((s) => s.files ?? []);
    return {
      audienceId: String(job.params.audienceId),
      format: job.params.format === 'csv' ? 'csv' : 'ndjson',
      rows: files.reduce((a, f) => a + f.rows, 0),
      files: files.map((f, i) => ({ url: `/v1/jobs/${job.id}/files/${i}`, rows: f.rows, bytes: f.bytes })),
    };
  },
};

/** File `n` of a finished export job (`GET /v1/jobs/{id}/files/{n}`). */
export async function jobFile(
  d: { readonly jobs: JobStore; readonly files?: JobFileStore },
  jobId: string,
  n: string,
): Promise<{ readonly body: string; readonly contentType: string; readonly name: string }> {
  const index = /^\d{1,6}$/.test(n) ? Number(n) : NaN;
  if (Number.isNaN(index)) throw new ValidationError('n must be a file number', [{ path: 'n', message: 'must be a whole number ≥ 0' }]);
  const got = await d.jobs.get(jobId);
  if (!got || got.job.kind !== 'audience-export') throw new NotFoundError(`no export job ${jobId}`);
  if (got.job.status !== 'succeeded')
    throw new NotFoundError(`export job ${jobId} is ${got.job.status}; its files are listed once it succeeded`);
  const file = got.segments.flatMap((s) => s.files ?? [])[index];
  const stored = file && d.files ? await d.files.get(file.key) : undefined;
  if (!file || !stored) throw new NotFoundError(`export job ${jobId} has no file ${n} (files expire after a few days)`);
  return { ...stored, name: `${String(got.job.params.audienceId)}-${index}.${got.job.params.format === 'csv' ? 'csv' : 'ndjson'}` };
}
