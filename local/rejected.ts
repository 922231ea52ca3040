/**
 * The local rejected-event log: every record goes to the table (as in the cloud) and is also
 * appended to `<dataDir>/rejected.jsonl`, where a developer sees it at once. Erasure removes the
 * matching records from both: the file is rewritten without the matching lines (to a temporary
 * file, then renamed over it). The file is trimmed to the retention at start and hourly while
 * records are saved.
 */
import { appendFileSync } from 'node:fs';
import { rewriteJsonlWithout } from './jsonl';
import type { RejectedRecord, RejectedStore } from '../app/ports';
import type { PayloadMatcher } from '../core/mentions';

export interface JsonlRejectedStoreOptions {
  /** Days a record is kept in the file, as in the table. @default 7 */
  readonly retentionDays?: number;
  readonly now?: () => Date;
}

/** How often the file is trimmed to the retention while records are saved (and once at start). */
const TRIM_EVERY_MS = 3_600_000;

export class JsonlRejectedStore implements RejectedStore {
  private readonly retentionMs: number;
  private readonly now: () => Date;
  private lastTrim: number;

  constructor(
    private readonly inner: RejectedStore,
    private readonly file: string,
    opts: JsonlRejectedStoreOptions = {},
  ) {
    this.retentionMs = (opts.retentionDays ?? 7) * 86_400_000;
    this.now = opts.now ?? (() => new Date());
    this.lastTrim = this.now().getTime();
    this.trim();
  }

  async save(records: readonly RejectedRecord[]): Promise<void> {
    await this.inner.save(records);
    if (this.now().getTime() - this.lastTrim >= TRIM_EVERY_MS) {
      this.lastTrim = this.now().getTime();
      this.trim();
    }
    if (records.length > 0) appendFileSync(this.file, `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
  }

  /** Drops the records older than the retention (the table's TTL removes them there). */
  trim(): void {
    const cutoff = new Date(this.now().getTime() - this.retentionMs).toISOString();
    this.rewriteWithout((_text, line) => {
      const at = receivedAtOf(line);
      return at !== undefined && at < cutoff;
    });
  }

  list(opts: { readonly limit: number; readonly sourceId?: string }): Promise<RejectedRecord[]> {
    return this.inner.list(opts);
  }

  listMatching(matches: PayloadMatcher): Promise<RejectedRecord[]> {
    return this.inner.listMatching(matches);
  }

  /** Erases from the table (the count returned), then from the file: every line, also those older than the table keeps. */
  async eraseMatching(matches: PayloadMatcher): Promise<number> {
    const deleted = await this.inner.eraseMatching(matches);
    this.rewriteWithout(matches);
    return deleted;
  }

  /** A line that is not a record is tested as a whole. */
  private rewriteWithout(matches: (text: string, line: string) => boolean): void {
    rewriteJsonlWithout(this.file, (line) => lineMatches(line, (text) => matches(text, line)));
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

/** The `receivedAt` of a record line (undefined for a line that is not a record). */
function receivedAtOf(line: string): string | undefined {
  try {
    const r = JSON.parse(line) as { receivedAt?: unknown };
    return typeof r?.receivedAt === 'string' ? r.receivedAt : undefined;
  } catch {
    return undefined;
  }
}
