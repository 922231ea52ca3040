/**
 * Replaying the stream records evaluate failed on (their notes are kept in the table, since the
 * stream mapping's failure queue gets sequence numbers only): each noted record is read back
 * from its item and evaluated again; a note whose item is gone (erased or expired) or that
 * succeeds is cleared, one that fails again is kept for the next replay.
 */

/** Where failed records are noted: `F` a note, `R` the record it stands for. */
export interface FailureLog<F, R> {
  list(): Promise<F[]>;
  /** The record a note stands for, read back from its item; undefined when the item is gone. */
  streamRecord(f: F): Promise<R | undefined>;
  remove(f: F): Promise<void>;
}

/** What a replay did: evaluated and cleared, item gone (cleared), failed again (kept). */
export interface ReplayResult {
  readonly replayed: number;
  readonly gone: number;
  readonly failed: number;
}

export async function replayFailures<F, R>(
  log: FailureLog<F, R>,
  evaluate: (record: R) => Promise<unknown>,
  onFailedAgain: (f: F, err: unknown) => void,
): Promise<ReplayResult> {
  let replayed = 0;
  let gone = 0;
  let failed = 0;
  for (const f of await log.list()) {
    const record = await log.streamRecord(f);
    if (!record) {
      gone++;
      await log.remove(f);
      continue;
    }
    try {
      await evaluate(record);
      await log.remove(f);
      replayed++;
    } catch (err) {
      failed++;
      onFailedAgain(f, err);
    }
  }
  return { replayed, gone, failed };
}
