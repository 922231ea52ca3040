/**
 * One computed-traits write per profile per stream batch. Evaluate applies each event of a
 * batch to the profile's computed traits in memory (the rules of every event still see the
 * values after it); the batch's result for each profile is written once at the end, conditional
 * on the version read before the batch. A browser session (20 events of one person in one
 * request) thus costs one computed write instead of twenty.
 *
 * Failure semantics are those of a write per event: nothing is written for a record that was
 * not evaluated, the stream retries from the first record whose profile's write failed (every
 * change is idempotent: the item's `recent` hashes drop events applied already), and a crash
 * before the flush retries the whole batch with nothing of it written.
 */
import type { ComputedState } from '../core/computed';
import type { ProfileParts, ProfileReader, ComputedStore, PersonalizationStore, StoredComputed } from './ports';
import type { EvaluateDeps } from './evaluate';

interface Pending {
  /** The version stored before this batch: the flush is conditional on it. */
  readonly base: number;
  state: ComputedState;
  version: number;
  /** The index of the first record of the batch that changed it. */
  readonly firstRecord: number;
}

/** Some profile's computed traits could not be written: `firstRecord` is the earliest record that changed one of them. */
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
  /** The record being evaluated (set by the caller before each record). */
  record = 0;

  constructor(private readonly inner: ComputedStore) {}

  /** The batch's computed store: reads see the batch's changes, writes are held until {@link flush}. */
  readonly store: ComputedStore = {
    load: async (ids) => {
      const missing = ids.filter((id) => !this.pending.has(id));
      const stored = missing.length > 0 ? await this.inner.load(missing) : new Map<string, StoredComputed>();
      const out = new Map<string, StoredComputed>();
      for (const id of ids) {
        const p = this.pending.get(id);
        const s = p ? { state: p.state, version: p.version } : stored.get(id);
        if (s) out.set(id, s);
      }
      return out;
    },
    save: async (id, state, expectedVersion) => {
      const p = this.pending.get(id);
      if (!p) {
        this.pending.set(id, { base: expectedVersion, state, version: expectedVersion + 1, firstRecord: this.record });
        return true;
      }
      if (p.version !== expectedVersion) return false;
      p.state = state;
      p.version++;
      return true;
    },
  };

  /** `parts` with the batch's computed traits of the profile, if it changed them. */
  overlay(profileId: string, parts: ProfileParts): ProfileParts {
    const p = this.pending.get(profileId);
    if (!p) return parts;
    return { ...parts, computed: { ...p.state.values }, computedState: { state: p.state, version: p.version } };
  }

  /** Evaluate's dependencies for this batch: computed traits through the batch, parts read with its changes. */
  deps(base: EvaluateDeps): EvaluateDeps {
    if (!base.computed) return base;
    const parts: PersonalizationStore = {
      loadParts: async (id) => this.overlay(id, await base.parts.loadParts(id)),
      saveConsent: (...a) => base.parts.saveConsent(...a),
      saveAudiences: (...a) => base.parts.saveAudiences(...a),
      putRecommendation: (...a) => base.parts.putRecommendation(...a),
      claimFiring: (...a) => base.parts.claimFiring(...a),
    };
    const reader: ProfileReader | undefined = base.reader && {
      loadProfileWithParts: async (id) => {
        const whole = await base.reader!.loadProfileWithParts(id);
        return whole && { ...whole, parts: this.overlay(whole.stored.profile.id, whole.parts) };
      },
      readPartition: (id) => base.reader!.readPartition(id),
    };
    return { ...base, parts, reader, computed: { store: this.store, defs: base.computed.defs } };
  }

  /** Profiles changed in this batch. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Writes each changed profile once. Throws {@link ComputedFlushError} naming the earliest
   * record whose profile could not be written (another writer changed it since it was read);
   * the others are written all the same.
   */
  async flush(): Promise<void> {
    const entries = [...this.pending];
    this.pending.clear();
    let failed: number | undefined;
    let cause: unknown;
    for (const [id, p] of entries) {
      const ok = await this.inner.save(id, p.state, p.base).catch((err: unknown) => {
        cause ??= err;
        return false;
      });
      if (!ok) failed = Math.min(failed ?? p.firstRecord, p.firstRecord);
    }
    if (failed !== undefined) throw new ComputedFlushError(failed, cause);
  }
}
