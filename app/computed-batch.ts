/**
 * One computed-traits write per profile per stream batch, exactly once.
 *
 * Evaluate stages each record's change (an event, or a merge's combine) on the profile's state
 * in memory, so the rules of every later record of the batch see the values after it, and keeps
 * the list of steps. {@link ComputedBatch.flush} writes each changed profile once, conditional on
 * the version it was read at. Every step carries its stream position (source partition and
 * sequence number), and the state keeps per partition the highest one applied
 * (`ComputedState.seen`, `core/computed.ts`); a partition's records reach evaluate in order, so
 * a step at or below the mark is a no-op. Hence:
 *
 * - a refused write (another writer changed the item, or an earlier attempt's write took effect
 *   and its answer was lost) re-reads the item and folds the same steps onto it: only the ones
 *   it does not hold are applied;
 * - a record retried after a partial failure, a crash between two profiles' writes, a
 *   redelivered batch: every step already written is at or below its partition's mark, whatever
 *   the number of events in between (the `recent` hashes are a second line, for replays);
 * - a merge joins the losers' marks into the survivor's, so a loser's events that arrive again
 *   and now resolve to the survivor are recognised there.
 *
 * A profile that cannot be written (retries used up, or a store error) is reported with the
 * first record that changed it; the stream retries from there, and what was written is skipped.
 */
import { EMPTY_COMPUTED, foldSteps, type ComputedDefs, type ComputedState, type ComputedStep } from '../core/computed';
import type { ComputedStore, ProfileParts, StoredComputed } from './ports';
import { ComputedConflictError } from './computed';

interface Pending {
  /** The item as read before this batch changed it: the write is conditional on its version. */
  base: StoredComputed;
  state: ComputedState;
  readonly steps: ComputedStep[];
  /** The index of the first record of the batch that changed it. */
  readonly firstRecord: number;
}

/** A refused write is folded again onto the fresh item this many times. */
const FLUSH_ATTEMPTS = 10;
const pause = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));

/** Some profiles' computed traits could not be written: `firstRecord` is the earliest record that changed one of them. */
export class ComputedFlushError extends Error {
  constructor(
    readonly firstRecord: number,
    cause?: unknown,
  ) {
    super(cause ? `computed traits not written: ${(cause as Error)?.message ?? String(cause)}` : 'computed traits changed concurrently', {
      cause,
    });
    this.name = 'ComputedFlushError';
  }
}

export class ComputedBatch {
  private readonly pending = new Map<string, Pending>();
  /** Partition profile id → the profile its events were staged on in this batch (a read skipped for the next). */
  private readonly resolved = new Map<string, string>();
  /** The record being evaluated (set by the caller before each record). */
  record = 0;

  constructor(
    private readonly store: ComputedStore,
    private readonly defs: ComputedDefs,
  ) {}

  /** The profile's state with this batch's changes, or `loaded` when the batch did not change it. */
  current(profileId: string, loaded: StoredComputed | undefined): StoredComputed {
    const p = this.pending.get(profileId);
    return p ? { state: p.state, version: p.base.version } : (loaded ?? { state: EMPTY_COMPUTED, version: 0 });
  }

  /** Stored states, this batch's changes over them. */
  async load(profileIds: readonly string[]): Promise<Map<string, StoredComputed>> {
    const missing = profileIds.filter((id) => !this.pending.has(id));
    const stored = missing.length > 0 ? await this.store.load(missing) : new Map<string, StoredComputed>();
    return new Map(profileIds.map((id) => [id, this.current(id, stored.get(id))]));
  }

  /** Applies a step to the profile (read as `loaded` unless the batch changed it); the state after it. */
  stage(profileId: string, loaded: StoredComputed | undefined, step: ComputedStep): ComputedState {
    const p = this.pending.get(profileId);
    const cur = p?.state ?? loaded?.state ?? EMPTY_COMPUTED;
    // Merged away since it was read: the record is retried, and then resolves to the survivor.
    if (cur.into !== undefined) throw new ComputedConflictError();
    const next = foldSteps(this.defs, cur, [step]);
    if (next === cur) return cur;
    if (p) {
      p.state = next;
      p.steps.push(step);
    } else {
      this.pending.set(profileId, {
        base: loaded ?? { state: EMPTY_COMPUTED, version: 0 },
        state: next,
        steps: [step],
        firstRecord: this.record,
      });
    }
    return next;
  }

  /** `parts` with the batch's computed traits of the profile, if it changed them. */
  overlay(profileId: string, parts: ProfileParts): ProfileParts {
    const p = this.pending.get(profileId);
    if (!p) return parts;
    return { ...parts, computed: { ...p.state.values }, computedState: { state: p.state, version: p.base.version } };
  }

  /** Notes that the events of partition `partitionId` went to `profileId` in this batch. */
  remember(partitionId: string, profileId: string): void {
    this.resolved.set(partitionId, profileId);
  }

  /**
   * The profile this batch staged the partition's events on, while that still holds (a merge
   * of the batch forgets its losers): the next event needs no read when nothing but computed
   * traits can change.
   */
  resolvedProfile(partitionId: string): string | undefined {
    const id = this.resolved.get(partitionId);
    return id !== undefined && this.pending.has(id) ? id : undefined;
  }

  /** A merge moved these partitions' profiles into another one. */
  forget(profileIds: readonly string[]): void {
    for (const [partition, id] of this.resolved)
      if (profileIds.includes(id) || profileIds.includes(partition)) this.resolved.delete(partition);
  }

  /** Seals a merged profile's computed traits (with what this batch staged on it) before they are combined into `into`. */
  async seal(profileId: string, into: string, loaded?: StoredComputed): Promise<ComputedState> {
    const p = this.pending.get(profileId);
    const sealed = await sealComputed(this.store, this.defs, profileId, into, p ?? loaded);
    // Only once the seal holds them: a failed seal leaves the staged steps to the flush.
    this.pending.delete(profileId);
    return sealed;
  }

  /** Profiles changed in this batch. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Writes each changed profile once; a refused write folds the profile's steps again onto the
   * item as it is now. Throws {@link ComputedFlushError} naming the earliest record whose
   * profile could not be written; the others are written all the same.
   */
  async flush(): Promise<void> {
    const entries = [...this.pending];
    this.pending.clear();
    this.resolved.clear();
    let failed: number | undefined;
    let cause: unknown;
    for (const [id, p] of entries) {
      try {
        if (!(await this.write(id, p))) failed = Math.min(failed ?? p.firstRecord, p.firstRecord);
      } catch (err) {
        cause ??= err;
        failed = Math.min(failed ?? p.firstRecord, p.firstRecord);
      }
    }
    if (failed !== undefined) throw new ComputedFlushError(failed, cause);
  }

  private async write(id: string, p: Pending): Promise<boolean> {
    let { base, state } = p;
    for (let attempt = 0; attempt < FLUSH_ATTEMPTS; attempt++) {
      if (attempt > 0) {
        await pause(attempt);
        base = (await this.store.load([id])).get(id) ?? { state: EMPTY_COMPUTED, version: 0 };
        // Merged away meanwhile: the stream retries the records, which then resolve to the survivor.
        if (base.state.into !== undefined) return false;
        state = foldSteps(this.defs, base.state, p.steps);
        if (state === base.state) return true; // the item holds every step already
      }
      if (await this.store.save(id, state, base.version)) return true;
    }
    return false;
  }
}

/**
 * Seals a loser's computed traits before a merge combines them into `into`: written with
 * `into` set, conditional on the version read, so a writer that read the loser before the merge
 * (an event of its partition in flight on another shard) is refused, re-reads, finds the seal
 * and retries its record, which then resolves to the survivor; no event is applied to a loser
 * after its values were combined. `read`: the item as read, or what a stream batch staged on it
 * (written with the seal).
 * The sealed state (final) is returned; a seal found in place is returned as it is.
 */
export async function sealComputed(
  store: ComputedStore,
  defs: ComputedDefs,
  profileId: string,
  into: string,
  read?: StoredComputed | { readonly base: StoredComputed; readonly state: ComputedState; readonly steps: readonly ComputedStep[] },
): Promise<ComputedState> {
  const pending = read && 'steps' in read ? read : undefined;
  let base = pending?.base ??
    (read as StoredComputed | undefined) ??
    (await store.load([profileId])).get(profileId) ?? { state: EMPTY_COMPUTED, version: 0 };
  let state = pending?.state ?? base.state;
  for (let attempt = 0; attempt < FLUSH_ATTEMPTS; attempt++) {
    if (attempt > 0) {
      await pause(attempt);
      base = (await store.load([profileId])).get(profileId) ?? { state: EMPTY_COMPUTED, version: 0 };
      state = pending ? foldSteps(defs, base.state, pending.steps) : base.state;
    }
    if (base.state.into !== undefined) {
      // Sealed already (the merge record came again): final, unless this batch staged something it lacks.
      if (state !== base.state) throw new ComputedConflictError();
      return base.state;
    }
    const sealed: ComputedState = { ...state, into };
    if (await store.save(profileId, sealed, base.version)) return sealed;
  }
  throw new ComputedConflictError();
}
