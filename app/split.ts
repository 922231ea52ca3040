/**
 * Undo (`POST /v1/profiles/{type}:{value}/split`, admin key): take one identifier off a profile
 * (`detach`) or undo one merge (`undoMerge`). `core/split.ts` decides the sides; this reads the
 * group, writes it in one transaction and then settles it:
 *
 * 1. Read (strongly consistent): the survivor and every profile merged into it, their identity
 *    items, merge records and timelines.
 * 2. One `TransactWriteItems`: every root the split changes (the kept one, the revived or new one,
 *    merged profiles whose pointers change), each conditioned on the version read, identity items
 *    that now lead to the other side (conditioned on where they pointed), and the split record.
 *    A concurrent event that changed any of them fails a condition: the split starts over.
 * 3. Settle: events stay in their partitions unless they belong to the other side (an event stored
 *    on the survivor after the merge, of the separated person): those are moved (copied, marked
 *    so that rules do not fire again, deleted). Computed traits of every side are recomputed from
 *    the events of its partitions, conditioned on their version (an event evaluated meanwhile
 *    makes it read again); once events moved, each side's root traits too. Each person is kept out
 *    of the other side's partitions (erasing one side later leaves nothing of theirs): merge
 *    records name the other side's identifiers by ref, events naming them are indexed (`FX#`).
 *    Repeated until nothing moves, once more after a short pause for an
 *    event whose stitch read the profile before the transaction and stored it after the first pass;
 *    and a final pass from the due index once no such stitch can still store an event (the commit
 *    plus the stitch timeout and a margin: `fileFinalPass`), which closes that race.
 * 4. The announcement record: the stream carries it to `evaluate`, which puts `Profile Split` on
 *    the bus and re-evaluates the audiences of every side.
 *
 * Idempotent: a repeated request finds the split done (the identifier no longer on the profile,
 * the merge no longer in effect) and its record, settles again (a no-op when settled) and answers
 * the same. Rule state stays in the partition it was written in: with the profile that fired.
 */
import { DEFAULT_CONFIG, type IdentityConfig } from '../core/config';
import { applyEvent, EMPTY_COMPUTED, type ComputedState } from '../core/computed';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../core/errors';
import { mergeIdOf, splitIdOf, SplitRequestSchema, type SplitRecord, type SplitRequest, type SplitResult } from '../core/identity-graph';
import { identifierKey, parseIdentifierKey } from '../core/identity';
import { newProfileId, type Profile, type TraitPolicy, type Traits } from '../core/profile';
import { DEFAULT_STITCH_TIMEOUT_SECONDS, STALE_STITCH_MARGIN_MS } from '../core/stitch-bound';
import {
  finalSettleDue,
  othersNamed,
  recordsWithoutOthers,
  sideOfEvent,
  SplitNotPossible,
  splitRoots,
  splitSides,
  traitsFrom,
  type GroupProfile,
  type Side,
} from '../core/split';
import { parseInput } from '../core/validation';
import type { ComputedDeps } from './computed';
import type { DueStore, IdentityGraphStore, ProfileStore, SplitStore, StoredEvent } from './ports';
import { groupRecords, survivorOf } from './identity-graph';
import { parseProfileKey } from './profiles';

export interface SplitDeps {
  readonly store: ProfileStore & IdentityGraphStore & SplitStore;
  readonly identity?: IdentityConfig;
  readonly traits?: TraitPolicy;
  /** Computed traits, recomputed per side (absent: none). */
  readonly computed?: ComputedDeps;
  readonly now?: () => Date;
  /** Pause before the last settle pass, ms. @default 250 */
  readonly settlePauseMs?: number;
  /**
   * The due index: the split files its final settle pass there, run by the minute sweep
   * (`app/expiry.ts`) once every `stitch` that read the group before the transaction has stored
   * its event. Absent: no final pass (tests that settle by hand).
   */
  readonly due?: Pick<DueStore, 'file'>;
  /** The longest a `stitch` runs, ms (the stitch function's timeout). @default DEFAULT_STITCH_TIMEOUT_SECONDS */
  readonly stitchTimeoutMs?: number;
}

/** The split cannot be made as asked (the request was valid). → 409 */
export class SplitConflictError extends AlreadyExistsError {}

/** Most items one split writes in its transaction (DynamoDB's limit is 100). */
const MAX_TRANSACTION_ITEMS = 100;
const MAX_ATTEMPTS = 6;

export async function splitProfile(deps: SplitDeps, key: string, body: unknown): Promise<SplitResult> {
  const identity = deps.identity ?? DEFAULT_CONFIG.identity;
  const req: SplitRequest = parseInput(SplitRequestSchema, body, 'split request');
  const store = deps.store;
  // The detached identifier, normalised as on ingest (a bad one names `detach`).
  const detachKey =
    'detach' in req
      ? (() => {
          try {
            return identifierKey(parseProfileKey(req.detach, identity));
          } catch (err) {
            if (err instanceof ValidationError)
              throw new ValidationError(err.message.replace('the profile path', 'detach'), [
                { path: 'detach', message: err.issues[0]?.message ?? 'must be {type}:{value}' },
              ]);
            throw err;
          }
        })()
      : undefined;
  const kind = detachKey !== undefined ? 'detach' : 'undoMerge';
  const targetName = detachKey ?? (req as { undoMerge: string }).undoMerge;

  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const at = (deps.now?.() ?? new Date()).toISOString();
    const { profile: S, version } = await survivorOf(store, key, identity);
    const splitId = splitIdOf(S.id, kind, targetName);
    const groupIds = [S.id, ...(S.mergedFrom ?? [])];
    const roots = await store.getProfiles(groupIds);
    const group = new Map<string, GroupProfile>([...roots].map(([id, sp]) => [id, sp]));
    group.set(S.id, { profile: S, version });
    const records = await groupRecords(store, groupIds);

    // Done before? Then answer the same (after settling again).
    const repeat = async (): Promise<SplitResult | undefined> => {
      const candidates = [S.id, ...(S.splitFrom ? [S.splitFrom] : [])];
      for (const c of candidates) {
        const rec = await store.findSplit(c, splitIdOf(c, kind, targetName));
        if (rec) {
          // Filed again: the first request may have ended between its transaction and filing it.
          await fileFinalPass(deps, rec);
          await settleAndAnnounce(deps, rec, identity);
          const now = await store.getProfiles(rec.profiles);
          const ids = (id: string) => [...(now.get(id)?.profile.identifiers ?? [])].sort();
          return {
            ...rec.result,
            kept: { ...rec.result.kept, identifiers: ids(rec.result.kept.profileId) },
            separated: rec.result.separated.map((s) => ({ ...s, identifiers: ids(s.profileId) })),
          };
        }
      }
      return undefined;
    };

    let target: Parameters<typeof splitSides>[0]['target'];
    let block: 'profile' | 'global' | undefined;
    if (detachKey !== undefined) {
      if (!S.identifiers.includes(detachKey)) {
        const done = await repeat();
        if (done) return done;
        throw new ValidationError(`the profile does not hold the identifier ${detachKey.split(':')[0]}:…`, [
          { path: 'detach', message: 'is not an identifier of this profile' },
        ]);
      }
      if (S.identifiers.length === 1) {
        // The profile the identifier was detached to, asked again.
        const done = await repeat();
        if (done) return done;
        throw new ValidationError('the profile has no other identifier: nothing would be left', [
          { path: 'detach', message: 'is the only identifier of this profile' },
        ]);
      }
      block = 'block' in req ? req.block : undefined;
      target = { kind: 'detach', key: detachKey, newProfileId: newProfileId(Date.parse(at)) };
    } else {
      const mergeId = (req as { undoMerge: string }).undoMerge;
      const record = records.merges.find((r) => r.merged.length > 0 && mergeIdOf(r) === mergeId);
      const inEffect = record?.merged.every((l) => group.get(l)?.profile.mergedInto !== undefined) ?? false;
      if (!inEffect) {
        const done = await repeat();
        if (done) return done;
        throw new NotFoundError(`undoMerge: no merge ${mergeId} is in effect on this profile (see GET …/identity)`);
      }
      target = { kind: 'undoMerge', record: record! };
    }

    const events = (await Promise.all(groupIds.map((id) => store.listPartitionEvents(id)))).flat();
    const ids = S.identifiers.map(parseIdentifierKey).filter((i) => i !== undefined);
    const items = await store.readIdentities(ids);
    let sides: readonly Side[];
    try {
      sides = splitSides({
        survivor: S,
        group,
        items,
        events,
        records: records.merges.filter((r) => target.kind === 'detach' || r !== target.record),
        target,
        identity,
      }).sides;
    } catch (err) {
      if (err instanceof SplitNotPossible) throw new SplitConflictError(err.message, [{ path: 'undoMerge', message: err.message }]);
      throw err;
    }
    if (sides.length < 2) throw new SplitConflictError('nothing to separate', [{ path: kind, message: 'separates nothing' }]);

    // Traits per side from its events; traits no event sets stay with the kept side.
    const bySide = sides.map(() => [] as StoredEvent[]);
    let moving = 0;
    for (const e of events) {
      const side = sides[sideOfEvent(sides, e, identity)]!;
      bySide[sides.indexOf(side)]!.push(e);
      if (side.rootId !== e.profileId && !side.members.includes(e.profileId)) moving++;
    }
    const traits = sides.map((_, i) =>
      traitsFrom(
        bySide[i]!.map((e) => e.event),
        deps.traits,
        i === 0 ? { traits: S.traits, allEvents: events.map((e) => e.event) } : undefined,
      ),
    );
    const rootWrites = splitRoots(group, sides, traits, at, {
      splitFrom: S.id,
      ...(block === 'profile' && detachKey ? { blocked: detachKey } : {}),
    });
    // Identity items that lead to the wrong side now point at their side's root.
    const sideOfProfile = new Map<string, number>();
    sides.forEach((s, i) => {
      sideOfProfile.set(s.rootId, i);
      for (const m of s.members) sideOfProfile.set(m, i);
    });
    const repoints: { id: NonNullable<ReturnType<typeof parseIdentifierKey>>; from: string; to: string; block?: 'global' }[] = [];
    sides.forEach((s, i) => {
      for (const k of s.identifiers) {
        const it = items.get(k);
        const id = parseIdentifierKey(k);
        if (!it || !id) continue;
        const global = block === 'global' && k === detachKey ? ({ block: 'global' } as const) : {};
        if (sideOfProfile.get(it.profileId) !== i || 'block' in global) repoints.push({ id, from: it.profileId, to: s.rootId, ...global });
      }
    });
    const result: SplitResult = {
      splitId,
      kind,
      at,
      kept: { profileId: S.id, identifiers: [...sides[0]!.identifiers].sort() },
      separated: sides.slice(1).map((s) => ({ profileId: s.rootId, identifiers: [...s.identifiers].sort() })),
      moved: moving,
      ...(block ? { block } : {}),
    };
    const rec: SplitRecord = {
      splitId,
      at,
      kind,
      profiles: sides.map((s) => s.rootId),
      identifierTypes: [...new Set(sides.slice(1).flatMap((s) => s.identifiers.map((k) => k.split(':')[0]!)))].sort(),
      result: {
        ...result,
        kept: { ...result.kept, identifiers: [] },
        separated: result.separated.map((s) => ({ ...s, identifiers: [] })),
      },
    };
    if (rootWrites.length + repoints.length + 1 > MAX_TRANSACTION_ITEMS)
      throw new SplitConflictError(`the split would change more than ${MAX_TRANSACTION_ITEMS - 1} items at once`, [
        { path: kind, message: 'changes too many profiles at once' },
      ]);
    if (!(await store.applySplit({ roots: rootWrites, repoints, record: rec }))) continue;
    await fileFinalPass(deps, rec);
    await settleAndAnnounce(deps, rec, identity);
    return result;
  }
  throw new SplitConflictError('the profile kept changing under concurrent events; retry the split');
}

/**
 * Files the final settle pass, due once no `stitch` that read the group before the transaction can
 * still store an event: the transaction committed before now; such a `stitch` stores its event
 * before its invocation ends, at most the stitch timeout after it started (before the commit);
 * plus a margin for the request in flight then and for clocks. A repeated split files another
 * (a pass over a settled split moves nothing).
 */
async function fileFinalPass(deps: SplitDeps, rec: SplitRecord): Promise<void> {
  if (!deps.due) return;
  const bound = deps.stitchTimeoutMs ?? DEFAULT_STITCH_TIMEOUT_SECONDS * 1000;
  await deps.due.file(finalSettleDue(rec.profiles[0]!, rec.splitId, Date.now() + bound + STALE_STITCH_MARGIN_MS));
}

/**
 * The final settle pass of a split (the due sweep calls it when it is due): moves every event a
 * `stitch` stored on the wrong side after the split's own passes and recomputes computed traits.
 * A no-op when settled; nothing when the split record is gone (the kept profile was erased).
 */
export async function finalSettle(deps: SplitDeps, keptId: string, splitId: string): Promise<number> {
  const rec = await deps.store.findSplit(keptId, splitId);
  if (!rec) return 0;
  return settleAndAnnounce({ ...deps, due: undefined }, rec, deps.identity ?? DEFAULT_CONFIG.identity);
}

/** Settles a split (see the module comment, 3 and 4); returns how many events were moved. */
export async function settleAndAnnounce(deps: SplitDeps, rec: SplitRecord, identity: IdentityConfig): Promise<number> {
  let moved = 0;
  const state: SettleState = { indexed: new Set(), recordsDone: false, traitsDue: false };
  for (let pass = 0; pass < 8; pass++) {
    const r = await settlePass(deps, rec, identity, state);
    moved += r.moved;
    if (r.moved === 0 && r.settled) {
      if (pass > 0) break;
      // Once more after a pause, for an event in flight when the transaction committed.
      await new Promise((res) => setTimeout(res, deps.settlePauseMs ?? 250));
    }
  }
  await deps.store.putSplitDone(rec);
  return moved;
}

/** What the passes of one settle share. */
interface SettleState {
  /** `FX#` entries filed (`<partition>\u0000<event sk>\u0000<ref>`). */
  readonly indexed: Set<string>;
  recordsDone: boolean;
  /** Events moved and the traits of the sides not recomputed since. */
  traitsDue: boolean;
}

/**
 * One settle pass. Besides moving events and recomputing computed traits it keeps each person out
 * of the other side's partitions, so erasing one side later leaves nothing of theirs: the merge
 * records a side keeps name the other sides' identifiers by ref only (rewritten in place, the
 * first pass), an event a side keeps naming another side's identifiers is indexed by their
 * digests (`FX#`, erasure redacts it), and when events moved, each side's traits are recomputed from its own events (an event of the other
 * person stored on the wrong root had set its traits there).
 */
async function settlePass(
  deps: SplitDeps,
  rec: SplitRecord,
  identity: IdentityConfig,
  state: SettleState,
): Promise<{ moved: number; settled: boolean }> {
  const store = deps.store;
  const rootsNow = await store.getProfiles(rec.profiles);
  // Each side as it is now: its live root (or the one it was merged into since) and that root's group.
  const sides: Side[] = [];
  const rootOf: { profile: Profile; version: number }[] = [];
  for (const id of rec.profiles) {
    const sp = rootsNow.get(id);
    const p: Profile | undefined = sp?.profile;
    if (!sp || !p || p.mergedInto) continue;
    sides.push({ rootId: p.id, members: p.mergedFrom ?? [], identifiers: p.identifiers });
    rootOf.push(sp);
  }
  if (sides.length < 2) return { moved: 0, settled: true };
  if (!state.recordsDone) {
    const records = await groupRecords(
      store,
      sides.flatMap((s) => [s.rootId, ...s.members]),
    );
    await store.rewriteMergeRecords(recordsWithoutOthers(sides, records.merges));
    state.recordsDone = true;
  }
  const before = deps.computed ? await deps.computed.store.load(sides.map((s) => s.rootId)) : undefined;
  const parts = sides.flatMap((s) => [s.rootId, ...s.members]);
  const events = (await Promise.all(parts.map((id) => store.listPartitionEvents(id)))).flat();
  const moves: { event: StoredEvent; to: string }[] = [];
  const bySide = sides.map(() => [] as StoredEvent[]);
  for (const e of events) {
    const i = sideOfEvent(sides, e, identity);
    const side = sides[i]!;
    bySide[i]!.push(e);
    if (e.profileId !== side.rootId && !side.members.includes(e.profileId)) moves.push({ event: e, to: side.rootId });
  }
  await store.moveEvents(moves);
  for (const [i, side] of sides.entries())
    for (const e of bySide[i]!) {
      const at = side.rootId === e.profileId || side.members.includes(e.profileId) ? e.profileId : side.rootId;
      const refs = othersNamed(sides, i, e.event, identity).filter((r) => !state.indexed.has(`${at}\u0000${e.sk}\u0000${r}`));
      if (refs.length === 0) continue;
      await store.indexForeignIdentifiers(refs, at, e.event);
      for (const r of refs) state.indexed.add(`${at}\u0000${e.sk}\u0000${r}`);
    }
  let settled = true;
  if (moves.length > 0) state.traitsDue = true;
  if (state.traitsDue) {
    let saved = true;
    for (const i of sides.keys()) {
      const { profile, version } = rootOf[i]!;
      const traits = traitsFrom(
        bySide[i]!.map((e) => e.event),
        deps.traits,
        { traits: profile.traits, allEvents: events.map((e) => e.event) },
      );
      if (sameTraits(traits, profile.traits)) continue;
      // Conditioned on the version read: a concurrent event makes the next pass read again.
      const updatedAt = (deps.now?.() ?? new Date()).toISOString();
      if (!(await store.saveProfile({ ...profile, traits, updatedAt }, version))) saved = false;
    }
    state.traitsDue = !saved;
    if (!saved) settled = false;
  }
  if (deps.computed && before && Object.keys(deps.computed.defs).length > 0) {
    for (const [i, side] of sides.entries()) {
      const sorted = [...bySide[i]!].sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0));
      let computed: ComputedState = EMPTY_COMPUTED;
      const seen = new Set<string>();
      for (const e of sorted) {
        if (seen.has(e.sk)) continue; // an event in two partitions (an interrupted move) counts once
        seen.add(e.sk);
        computed = applyEvent(deps.computed.defs, computed, e.event);
      }
      const cur = before.get(side.rootId) ?? { state: EMPTY_COMPUTED, version: 0 };
      if (JSON.stringify(cur.state) === JSON.stringify(computed)) continue;
      if (!(await deps.computed.store.save(side.rootId, computed, cur.version))) settled = false;
    }
  }
  return { moved: moves.length, settled };
}

/** Whether two trait sets hold the same values (key order aside). */
function sameTraits(a: Traits, b: Traits): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && JSON.stringify(a[k]) === JSON.stringify(b[k]));
}
