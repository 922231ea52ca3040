/**
 * fileImport: imports files dropped into the import bucket. The bucket notifies the import queue
 * of each new file under `imports/`; each message is a job (app/import-file.ts) run until the
 * file ends or time runs short, when the rest goes back on the queue as a new job. A failing job
 * is retried by the queue from where it started and ends in the import dead-letter queue.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { runImportJob, type FileImportDeps } from '../../app/import-file';
import { jobsOfMessage } from '../../core/import-job';
import { S3ObjectStore } from '../../adapters/s3-objects';
import { SqsEventQueue, SqsImportJobQueue } from '../../adapters/sqs-queue';
import { scherpConfig } from '../shared/config';
import { sourceStore } from '../shared/dynamo';
import { ENV, requireEnv } from '../shared/env';
import { lazy } from '../shared/lazy';
import { errorFields, flushMetrics, logger, metrics, MetricUnit } from '../shared/observability';

export interface FileImportHandlerDeps extends FileImportDeps {
  /** The bucket whose notifications are accepted. */
  readonly bucket: string;
}

export function createFileImportHandler(deps: () => FileImportHandlerDeps) {
  return async (event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> => {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    const timeLeft = () => context?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY;
    for (const record of event.Records) {
      const d = deps();
      const jobs = jobsOfMessage(record.body, d.bucket, new Date().toISOString());
      if (jobs === undefined) {
        // Neither a notification nor a job: a retry cannot help.
        logger.warn('import queue message ignored: not a bucket notification or an import job', { messageId: record.messageId });
        continue;
      }
      try {
        for (const job of jobs) {
          const r = await runImportJob(d, job, timeLeft);
          // Keys and counts only: rows and their reasons stay in the report.
          logger.info('file import', {
            status: r.status,
            imported: r.report?.imported,
            errors: r.report?.errorCount,
            lines: r.report?.lines,
            reason: r.status === 'failed' ? r.report?.reason : undefined,
          });
          if (r.report && r.status !== 'failed') metrics.addMetric('RowsImported', MetricUnit.Count, r.report.imported);
        }
      } catch (err) {
        logger.warn('file import failed; the job will be retried', { messageId: record.messageId, ...errorFields(err) });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    flushMetrics();
    return { batchItemFailures: failures };
  };
}

const cloudDeps = lazy((): FileImportHandlerDeps => {
  const bucket = requireEnv(ENV.IMPORT_BUCKET);
  const sqs = new SQSClient({});
  return {
    bucket,
    objects: new S3ObjectStore(new S3Client({}), bucket),
    queue: new SqsEventQueue(sqs, requireEnv(ENV.QUEUE_URL)),
    jobs: new SqsImportJobQueue(sqs, requireEnv(ENV.IMPORT_QUEUE_URL)),
    sources: sourceStore(),
    config: scherpConfig(),
  };
});

export const handler = createFileImportHandler(cloudDeps);
