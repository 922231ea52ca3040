/**
 * The local job files (export parts): a folder in the data folder (`.scherp/job-files/`), as the
 * cloud's jobs bucket. Keys are the workers' own (`exports/<jobId>/<n>.<ext>`), never a user's.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { JobFileStore } from '../app/ports';

export class LocalJobFiles implements JobFileStore {
  private readonly root: string;

  constructor(dir: string) {
    this.root = resolve(dir);
  }

  private path(key: string): string {
    const p = resolve(join(this.root, key));
    if (!p.startsWith(this.root + sep)) throw new Error(`not a job file key: ${key}`);
    return p;
  }

  async put(key: string, body: string, _contentType: string): Promise<void> {
    const p = this.path(key);
    await mkdir(dirname(p), { recursive: true });
    // Written whole or not at all (a page worked again rewrites it).
    await writeFile(`${p}.tmp`, body);
    await rename(`${p}.tmp`, p);
  }

  async get(key: string): Promise<{ body: string; contentType: string } | undefined> {
    const p = this.path(key);
    if (!existsSync(p)) return undefined;
    return { body: await readFile(p, 'utf8'), contentType: key.endsWith('.csv') ? 'text/csv; charset=utf-8' : 'application/x-ndjson' };
  }
}
