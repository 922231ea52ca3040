/**
 * The local rejected-event log: every record goes to the table (as in the cloud) and is also
 * appended to `<dataDir>/rejected.jsonl`, where a developer sees it at once.
 */
import { appendFileSync } from 'node:fs';
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
}
