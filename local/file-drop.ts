/**
 * The import bucket on one machine: a folder (`.scherp/bucket/`) with the bucket's layout. A
 * poller plays S3's notification: a new or changed file under `imports/<source>/` that has stood
 * still for one poll is handed to the same `fileImport` handler as an `ObjectCreated` message,
 * and the handler's continuation jobs come back through the same loop. The report is written to
 * `reports/<source>/<name>.json`, as in the cloud.
 */
import { createReadStream, type Dirent, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { ImportJobQueue, ObjectInfo, ObjectStore } from '../app/ports';
import { PollLoop } from './poll-loop';
import {
  etagValue,
  IMPORT_BUCKET_ACCESS,
  IMPORTS_PREFIX,
  importTarget,
  jobMessage,
  jobsOfMessage,
  REPORTS_PREFIX,
  type ImportJob,
  type ImportReport,
} from '../core/import-job';
import { toRecord } from './queue';

/** Bucket name the local notifications carry. */
export const LOCAL_BUCKET = 'local';

/** What a role may do in the bucket, by key prefix (S3 authorizes each call on the object's ARN). */
export interface BucketAccess {
  readonly read: string;
  readonly list: string;
  readonly write: string;
}

/** The error S3 answers a call the role may not make: 403 AccessDenied. */
export class AccessDeniedError extends Error {
  readonly name = 'AccessDenied';
  readonly $metadata = { httpStatusCode: 403 };
}

/**
 * The bucket as a folder, answering as S3 does: `read` gives the ETag quoted (as `GetObject`),
 * and calls outside the granted prefixes are a 403 (`access`, the importer's grants by default);
 * a missing file is a 404 (undefined) only where the role may list, a 403 elsewhere.
 * Symbolic links are never followed: a link under the folder (to a file, or a folder, anywhere
 * on the disk) is neither read nor written through, so nothing outside the bucket is imported
 * and no report lands outside it. `links()` lists them so the importer can say why they are
 * left alone.
 */
export class FolderObjectStore implements ObjectStore {
  constructor(
    readonly root: string,
    private readonly access: BucketAccess = IMPORT_BUCKET_ACCESS,
  ) {}

  /** The file's version as the poller sees it (ETag quoted, as S3 reads give it). */
  info(key: string): ObjectInfo | undefined {
    const file = this.path(key);
    if (this.linkIn(key) !== undefined) return undefined;
    let s: ReturnType<typeof lstatSync>;
    try {
      s = lstatSync(file);
    } catch {
      return undefined;
    }
    if (!s.isFile()) return undefined;
    return { etag: `"${Math.floor(s.mtimeMs).toString(36)}-${s.size.toString(36)}"`, lastModified: s.mtime.toISOString() };
  }

  async read(key: string, fromByte: number): Promise<{ info: ObjectInfo; body: AsyncIterable<Uint8Array> } | undefined> {
    if (!key.startsWith(this.access.read)) throw new AccessDeniedError(`s3:GetObject on ${key} is not granted`);
    const info = this.info(key);
    if (!info) {
      if (key.startsWith(this.access.list)) return undefined;
      throw new AccessDeniedError(`${key} does not exist, and without s3:ListBucket S3 says 403`);
    }
    return { info, body: createReadStream(this.path(key), { start: fromByte }) };
  }

  async putJson(key: string, value: unknown): Promise<void> {
    if (!key.startsWith(this.access.write)) throw new AccessDeniedError(`s3:PutObject on ${key} is not granted`);
    const file = this.writable(key);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
  }

  readJson<T>(key: string): T | undefined {
    if (this.linkIn(key) !== undefined) return undefined;
    const file = this.path(key);
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as T;
    } catch {
      return undefined;
    }
  }

  /** Makes the folder of a prefix (`imports/crm/`), so a user sees where files go. */
  createFolder(prefix: string): void {
    mkdirSync(this.writable(prefix.replace(/\/+$/, '')), { recursive: true });
  }

  /** Deletes a file (no error when it is gone). */
  remove(key: string): void {
    rmSync(this.path(key), { force: true });
  }

  /** Keys of every regular file under a prefix (dot files, dot folders and `.tmp` files left out; links not followed). */
  list(prefix: string): string[] {
    return this.walk(prefix).files;
  }

  /** Keys of the symbolic links under a prefix (links to files or to folders), which are not imported. */
  links(prefix: string): string[] {
    return this.walk(prefix).links;
  }

  private walk(prefix: string): { files: string[]; links: string[] } {
    const files: string[] = [];
    const links: string[] = [];
    const start = prefix.replace(/\/+$/, '');
    if (this.linkIn(start) !== undefined) return { files, links: [start] };
    const visit = (dir: string, key: string) => {
      let entries: Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        // Only names inside the bucket count: the bucket itself lives in the dot folder `.scherp/`.
        if (e.name.startsWith('.')) continue;
        const k = `${key}/${e.name}`;
        if (e.isSymbolicLink()) links.push(k);
        else if (e.isDirectory()) visit(join(dir, e.name), k);
        else if (e.isFile() && !e.name.endsWith('.tmp')) files.push(k);
      }
    };
    visit(this.path(start), start);
    return { files: files.sort(), links: links.sort() };
  }

  private path(key: string): string {
    if (key.split('/').some((p) => p === '..')) throw new Error('key must not contain ..');
    return join(this.root, ...key.split('/').filter((p) => p !== ''));
  }

  /** The first part of the key's path below the root that is a symbolic link, if any. */
  private linkIn(key: string): string | undefined {
    const parts = key.split('/').filter((p) => p !== '');
    for (let i = 1; i <= parts.length; i++) {
      const sub = parts.slice(0, i).join('/');
      try {
        if (lstatSync(this.path(sub)).isSymbolicLink()) return sub;
      } catch {
        return undefined; // does not exist (yet): nothing below it can be a link
      }
    }
    return undefined;
  }

  private writable(key: string): string {
    const link = this.linkIn(key);
    if (link !== undefined) throw new Error(`${link} in the bucket folder is a symbolic link: links are not followed`);
    return this.path(key);
  }
}

export type SqsHandler = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

export interface FolderImporterOptions {
  readonly objects: FolderObjectStore;
  /** How often the folder is looked at, ms. @default 1000 */
  readonly pollMs?: number;
  /** Failed runs of one file version before it is left alone (until it changes). @default 3 */
  readonly maxAttempts?: number;
  /** Told when a file's version failed `maxAttempts` times. */
  readonly onGiveUp?: (key: string) => void;
  /** Told once about a file that is not where an import can be (no source folder). */
  readonly onIgnored?: (key: string, reason: string) => void;
  /** Days files and reports are kept after they were written, as the stack's bucket lifecycle (`importRetentionDays`). @default - kept until deleted */
  readonly retentionDays?: number;
  readonly now?: () => Date;
}

/** How often the folder is swept for files past their retention. */
const EXPIRE_EVERY_MS = 3_600_000;

/** Polls the folder and runs the handler for new files and continuation jobs. */
export class FolderImporter implements ImportJobQueue {
  private readonly jobs: string[] = [];
  /** Versions seen on the previous poll (key → etag): a file is imported once it stands still. */
  private seen = new Map<string, string>();
  private readonly failures = new Map<string, number>();
  private readonly ignored = new Set<string>();
  private readonly loop: PollLoop;
  private readonly maxAttempts: number;
  private lastExpiry = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: FolderImporterOptions) {
    this.loop = new PollLoop(opts.pollMs ?? 1000);
    this.maxAttempts = opts.maxAttempts ?? 3;
    mkdirSync(join(opts.objects.root, IMPORTS_PREFIX), { recursive: true });
  }

  async send(job: ImportJob): Promise<void> {
    this.jobs.push(jobMessage(job));
  }

  start(handler: SqsHandler): void {
    this.loop.start(() => this.pollOnce(handler));
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One look at the folder: notifies new still files, then runs queued jobs until none are left. */
  async pollOnce(handler: SqsHandler): Promise<void> {
    const { objects } = this.opts;
    this.expire();
    const now = new Map<string, string>();
    for (const key of objects.links(IMPORTS_PREFIX)) {
      if (this.ignored.has(key)) continue;
      this.ignored.add(key);
      this.opts.onIgnored?.(
        key,
        'it is a symbolic link, and links are not followed (so nothing outside the bucket folder is read): copy the file into the folder',
      );
    }
    for (const key of objects.list(IMPORTS_PREFIX)) {
      const info = objects.info(key);
      if (!info) continue;
      const etag = etagValue(info.etag);
      now.set(key, etag);
      if (this.seen.get(key) !== etag || this.isImported(key, etag)) continue;
      if ((this.failures.get(`${key}\u0000${etag}`) ?? 0) >= this.maxAttempts) continue;
      this.jobs.push(JSON.stringify(notification(key, etag)));
    }
    this.seen = now;
    while (this.jobs.length > 0) {
      const body = this.jobs.shift()!;
      const res = await handler({
        Records: [toRecord({ id: 'local', body, receiveCount: 1, sentAt: Date.now() }, 'scherp-imports')],
      }).catch(() => ({ batchItemFailures: [{ itemIdentifier: 'local' }] }));
      if ((res?.batchItemFailures ?? []).length > 0) this.failed(body);
    }
  }

  /**
   * Deletes files and reports written more than `retentionDays` ago (at most once an hour), as
   * the bucket's lifecycle rules do in the cloud: the personal data of an import file is kept
   * that long, not forever.
   */
  expire(): void {
    const days = this.opts.retentionDays;
    const now = (this.opts.now ?? (() => new Date()))().getTime();
    if (days === undefined || now - this.lastExpiry < EXPIRE_EVERY_MS) return;
    this.lastExpiry = now;
    const cutoff = now - days * 86_400_000;
    const { objects } = this.opts;
    for (const key of [...objects.list(IMPORTS_PREFIX), ...objects.list(REPORTS_PREFIX)]) {
      const info = objects.info(key);
      if (info && Date.parse(info.lastModified) < cutoff) objects.remove(key);
    }
  }

  private isImported(key: string, etag: string): boolean {
    const target = importTarget(key);
    if (!target.reportKey) {
      // Not importable and no report to write: say so once.
      if (!target.ok && !this.ignored.has(key)) this.opts.onIgnored?.(key, target.reason);
      this.ignored.add(key);
      return true;
    }
    const reportKey = target.reportKey;
    const report = this.opts.objects.readJson<ImportReport>(reportKey);
    return report !== undefined && report.etag !== undefined && etagValue(report.etag) === etag && report.status !== 'running';
  }

  private failed(body: string): void {
    const job = jobsOfMessage(body, LOCAL_BUCKET, '')?.[0];
    if (!job) return;
    const { key, etag } = job;
    const id = `${key}\u0000${etag}`;
    const count = (this.failures.get(id) ?? 0) + 1;
    this.failures.set(id, count);
    if (count >= this.maxAttempts) this.opts.onGiveUp?.(key);
    // The next poll notifies the file again (from its start: rows already queued are repeats).
    this.seen.delete(key);
  }
}

/** An S3 event notification: the key URL-encoded, the `eTag` without quotes. */
function notification(key: string, etag: string) {
  const encoded = key
    .split('/')
    .map((p) => encodeURIComponent(p).replace(/%20/g, '+'))
    .join('/');
  return {
    Records: [
      {
        eventName: 'ObjectCreated:Put',
        eventTime: new Date().toISOString(),
        s3: { bucket: { name: LOCAL_BUCKET }, object: { key: encoded, eTag: etag } },
      },
    ],
  };
}
