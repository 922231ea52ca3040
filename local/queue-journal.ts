/**
 * The local queue's write-ahead journal: every accepted message is appended and fsynced before
 * `send` returns (so before `collect` answers 200), every delete is appended after. Replaying the
 * journal at start restores exactly the messages that were acknowledged and not yet deleted,
 * so a process killed with SIGKILL loses nothing it acknowledged.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

export interface JournalMessage {
  readonly id: string;
  readonly body: string;
  readonly sentAt: number;
}

type Entry = { op: 'send'; id: string; body: string; sentAt: number } | { op: 'del'; id: string };

/** Rewrite the journal once this many deletes have piled up (and outnumber live messages). */
const COMPACT_AFTER_DELETES = 5000;

export class QueueJournal {
  private fd: number | undefined;
  private deletes = 0;

  constructor(private readonly file: string) {}

  /** Replays the journal; returns the messages still pending, in send order. */
  open(): JournalMessage[] {
    const live = new Map<string, JournalMessage>();
    if (existsSync(this.file)) {
      for (const line of readFileSync(this.file, 'utf8').split('\n')) {
        if (!line) continue;
        let e: Entry;
        try {
          e = JSON.parse(line) as Entry;
        } catch {
          continue; // a line torn by a crash mid-write was never acknowledged
        }
        if (e.op === 'send') live.set(e.id, { id: e.id, body: e.body, sentAt: e.sentAt });
        else live.delete(e.id);
      }
    }
    const pending = [...live.values()];
    this.rewrite(pending);
    return pending;
  }

  /** Appends and fsyncs: when this returns, the messages survive a crash. */
  appendSends(msgs: readonly JournalMessage[]): void {
    if (msgs.length === 0) return;
    const fd = this.requireOpen();
    writeSync(fd, `${msgs.map((m) => JSON.stringify({ op: 'send', ...m })).join('\n')}\n`);
    fsyncSync(fd);
  }

  /** Appends deletes; not fsynced (a lost delete only means a redelivery, which is idempotent). */
  appendDeletes(ids: readonly string[], pending: () => readonly JournalMessage[]): void {
    if (ids.length === 0) return;
    writeSync(this.requireOpen(), `${ids.map((id) => JSON.stringify({ op: 'del', id })).join('\n')}\n`);
    this.deletes += ids.length;
    const live = pending();
    if (this.deletes > COMPACT_AFTER_DELETES && this.deletes > 2 * live.length) this.rewrite(live);
  }

  /** Rewrites the journal with just these live messages now (erasure: no deleted message's body stays behind). */
  compact(live: readonly JournalMessage[]): void {
    this.rewrite(live);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private requireOpen(): number {
    if (this.fd === undefined) throw new Error('queue journal is not open');
    return this.fd;
  }

  /** Atomically replaces the journal with just the live messages. */
  private rewrite(live: readonly JournalMessage[]): void {
    this.close();
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w');
    if (live.length > 0) writeSync(fd, `${live.map((m) => JSON.stringify({ op: 'send', ...m })).join('\n')}\n`);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.file);
    this.fd = openSync(this.file, 'a');
    this.deletes = 0;
  }
}
