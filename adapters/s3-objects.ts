/**
 * ObjectStore on S3 (the import bucket): ranged reads so an import can go on from a byte
 * offset, JSON reports written back into the same bucket.
 */
import { GetObjectCommand, PutObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { ObjectInfo, ObjectStore } from '../app/ports';

export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async read(key: string, fromByte: number): Promise<{ info: ObjectInfo; body: AsyncIterable<Uint8Array> } | undefined> {
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(fromByte > 0 ? { Range: `bytes=${fromByte}-` } : {}) }));
      const info = { etag: r.ETag ?? '', lastModified: (r.LastModified ?? new Date()).toISOString() };
      return { info, body: r.Body as Readable };
    } catch (err) {
      if (err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404)) return undefined;
      // A continuation exactly at the end of the file: nothing left to read.
      if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 416) return this.emptyAt(key);
      throw err;
    }
  }

  async putJson(key: string, value: unknown): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: JSON.stringify(value, null, 2) + '\n', ContentType: 'application/json' }));
  }

  private async emptyAt(key: string): Promise<{ info: ObjectInfo; body: AsyncIterable<Uint8Array> } | undefined> {
    const head = await this.read(key, 0);
    if (!head) return undefined;
    (head.body as Readable).destroy?.();
    return { info: head.info, body: (async function* () {})() };
  }
}
