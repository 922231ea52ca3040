/**
 * JobFileStore on S3 (the jobs bucket of `lib/jobs.ts`): export parts written by the jobs
 * worker, read back by the rules function's `GET /v1/jobs/{id}/files/{n}`. The bucket's
 * lifecycle expires them.
 */
import { GetObjectCommand, PutObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import type { JobFileStore } from '../app/ports';

export class S3JobFiles implements JobFileStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: string, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  async get(key: string): Promise<{ body: string; contentType: string } | undefined> {
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return { body: (await r.Body?.transformToString('utf-8')) ?? '', contentType: r.ContentType ?? 'application/octet-stream' };
    } catch (err) {
      if (err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 404 || err.name === 'NoSuchKey')) return undefined;
      throw err;
    }
  }
}
