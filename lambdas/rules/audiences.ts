/**
 * The audience routes of the rules function:
 *   GET /v1/audiences → 200 { audiences: [{ id, name, count, entered24h, exited24h }] }
 *   GET /v1/audiences/{id} → 200 { id, name, count, entered24h, exited24h }
 *   GET /v1/audiences/{id}/members?limit=&cursor= → 200 { members: [{ profileId, enteredAt }], cursor? }
 *   GET /v1/audiences/{id}/export?format=csv|ndjson → 200 the members with user id and hashed email and phone (413 past 10,000 members)
 *   POST /v1/audiences/{id}/export?format=csv|ndjson → 202 an export job (its files at /v1/jobs/{id}/files/{n} once it succeeded)
 *   GET /v1/jobs · GET /v1/jobs/{id} → progress (done / total, rate, ETA), result · POST /v1/jobs/{id}/cancel (admin key)
 *   GET /v1/jobs/{id}/files/{n} → 200 file n of a finished export job
 */
import type { AudienceDeps } from '../../app/audiences';
import { exportAudience, getAudience, listAudiences, listMembers, startExport } from '../../app/audiences';
import { jobFile } from '../../app/job-export';
import type { JobFileStore } from '../../app/ports';
import type { KeyStore } from '../../app/ports';
import { type AdminRoute, pathParam } from '../shared/admin-api';
import { json } from '../shared/http';
import { logger } from '../shared/observability';
import { cancelJob, getJob, type JobDeps, listJobs } from '../../app/jobs';
import { NotFoundError } from '../../core/errors';

/** The jobs routes answer 404 where no job engine is configured. */
function jobsOf(d: { readonly backfills?: JobDeps }): JobDeps {
  if (!d.backfills) throw new NotFoundError('jobs are not configured here');
  return d.backfills;
}

export function audienceRoutes<
  D extends AudienceDeps & { readonly keys: KeyStore; readonly backfills?: JobDeps; readonly files?: JobFileStore },
>(): Record<string, AdminRoute<D>> {
  return {
    'GET /v1/jobs': async (_event, d) => json(200, await listJobs(jobsOf(d))),
    'GET /v1/jobs/{id}': async (event, d) => json(200, await getJob(jobsOf(d), pathParam(event, 'id'))),
    'POST /v1/jobs/{id}/cancel': async (event, d) => {
      const job = await cancelJob(jobsOf(d), pathParam(event, 'id'));
      logger.info('job cancelled', { jobId: job.id });
      return json(200, job);
    },
    'GET /v1/jobs/{id}/files/{n}': async (event, d) => {
      const file = await jobFile(
        { jobs: jobsOf(d).jobs, ...(d.files ? { files: d.files } : {}) },
        pathParam(event, 'id'),
        pathParam(event, 'n'),
      );
      return {
        statusCode: 200,
        headers: { 'content-type': file.contentType, 'content-disposition': `attachment; filename="${file.name}"` },
        body: file.body,
      };
    },
    'POST /v1/audiences/{id}/export': async (event, d) => {
      const id = pathParam(event, 'id');
      const job = await startExport(d, id, event.queryStringParameters ?? {});
      logger.info('audience export started', { audienceId: id, jobId: job.id });
      const res = json(202, job);
      return { ...res, headers: { ...res.headers, 'scherp-job-id': job.id, location: `/v1/jobs/${job.id}` } };
    },
    'GET /v1/audiences': async (_event, d) => json(200, await listAudiences(d)),
    'GET /v1/audiences/{id}': async (event, d) => json(200, await getAudience(d, pathParam(event, 'id'))),
    'GET /v1/audiences/{id}/members': async (event, d) =>
      json(200, await listMembers(d, pathParam(event, 'id'), event.queryStringParameters ?? {})),
    'GET /v1/audiences/{id}/export': async (event, d) => {
      const id = pathParam(event, 'id');
      const out = await exportAudience(d, id, event.queryStringParameters ?? {});
      logger.info('audience exported', { audienceId: id, rows: out.rows, format: out.format });
      return {
        statusCode: 200,
        headers: {
          'content-type': out.contentType,
          'content-disposition': `attachment; filename="${id}.${out.format === 'csv' ? 'csv' : 'ndjson'}"`,
        },
        body: out.body,
      };
    },
  };
}
