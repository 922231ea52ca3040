/**
 * ObjectStore on S3 (the import bucket): ranged reads so an import can go on from a byte
 * offset, JSON reports written back into the same bucket.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectInfo, ObjectStore } from '../app/ports';

const status = (err: unknown) => (err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined);

export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async read(key: string, fromByte: number): Promise<{ info: ObjectInfo; body: AsyncIterable<Uint8Array> } | undefined> {
    try {
      const r = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(fromByte > 0 ? { Range: `bytes=${fromByte}-` } : {}) }),
      );
      return { info: info(r.ETag, r.LastModified), body: r.Body as AsyncIterable<Uint8Array> };
    } catch (err) {
      // Gone (the function may list the prefix, so a missing key is a 404, not a 403).
      if (status(err) === 404) return undefined;
      // A continuation exactly at the end of the file: nothing left to read.
      if (status(err) === 416) {
        const head = await this.s3
          .send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }))
          .catch((e: unknown) => (status(e) === 404 ? undefined : Promise.reject(e)));
        return head && { info: info(head.ETag, head.LastModified), body: (async function* () {})() };
      }
      throw err;
    }
  }

  async putJson(key: string, value: unknown): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: `${JSON.stringify(value, null, 2)}\n`, ContentType: 'application/json' }),
    );
  }
}

function info(etag: string | undefined, lastModified: Date | undefined): ObjectInfo {
  return { etag: etag ?? '', lastModified: (lastModified ?? new Date(0)).toISOString() };
}
