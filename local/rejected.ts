/**
 * The local rejected-event log: every record goes to the table (as in the cloud) and is also
 * appended to `<dataDir>/rejected.jsonl`, where a developer sees it at once. Erasure removes the
 * matching records from both: the file is rewritten without the matching lines (to a temporary
 * file, then renamed over it).
 */
import { appendFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { RejectedRecord, RejectedStore } from '../app/ports';

export class JsonlRejectedStore implements RejectedStore {
  constructor(
    private readonly inner: RejectedStore,
    private readonly file: string,
  ) {}

  async save(records: readonly RejectedRecord[]): Promise<void> {
    await this.inner.save(records);
    if (records.length > 0) appendFileSync(this.file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  }

  list(opts: { readonly limit: number; readonly sourceId?: string }): Promise<RejectedRecord[]> {
    return this.inner.list(opts);
  }

  listMatching(matches: (text: string) => boolean): Promise<RejectedRecord[]> {
    return this.inner.listMatching(matches);
  }

  /** Erases from the table (the count returned), then from the file: every line, also those older than the table keeps. */
  async eraseMatching(matches: (text: string) => boolean): Promise<number> {
    const deleted = await this.inner.eraseMatching(matches);
    this.rewriteWithout(matches);
    return deleted;
  }

  /**
   * Synchronous from read to rename, so no `save` of this process appends in between (and is
   * lost). A line that is not a record is tested as a whole.
   */
  private rewriteWithout(matches: (text: string) => boolean): void {
    if (!existsSync(this.file)) return;
    const lines = readFileSync(this.file, 'utf8').split('\n');
    const kept = lines.filter((line) => line.trim() === '' || !lineMatches(line, matches));
    if (kept.length === lines.length) return;
    const text = kept.filter((line) => line.trim() !== '').join('\n');
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      writeFileSync(tmp, text === '' ? '' : text + '\n');
      renameSync(tmp, this.file);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }
}

/** As in the table: the payload or the issues (as JSON text); a line that is not a record, as a whole. */
function lineMatches(line: string, matches: (text: string) => boolean): boolean {
  let r: { payload?: unknown; issues?: unknown };
  try {
    r = JSON.parse(line) as typeof r;
  } catch {
    return matches(line);
  }
  if (typeof r !== 'object' || r === null || typeof r.payload !== 'string') return matches(line);
  return matches(r.payload) || (r.issues !== undefined && matches(JSON.stringify(r.issues)));
}
