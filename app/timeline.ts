/**
 * A profile's timeline, newest first, including the events of every profile merged into it.
 * Merges never copy events, so the timeline of a survivor is the merge-sort of its own
 * partition and the partition of each profile in `mergedFrom`.
 */
import { ValidationError, NotFoundError } from '../core/errors';
import type { ScherpEvent } from '../core/events';
import type { ProfileStore, TimelineEntry } from './ports';
import { resolveSurvivors } from './resolve';

export interface TimelinePage {
  /** The surviving profile whose timeline this is. */
  readonly profileId: string;
  /** Newest first; `profileId` of each entry is the partition it was stored under. */
  readonly events: readonly { readonly profileId: string; readonly event: ScherpEvent }[];
  /** Pass back as `cursor` for the next (older) page; absent on the last page. */
  readonly cursor?: string;
}

export const MAX_TIMELINE_LIMIT = 100;

function encodeCursor(position: string): string {
  return Buffer.from(JSON.stringify({ p: position }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { p?: unknown };
    if (typeof v.p === 'string') return v.p;
  } catch {
    // fall through
  }
  throw new ValidationError('invalid cursor: pass back the cursor of the previous page', [
    { path: 'cursor', message: 'is not a cursor this API returned' },
  ]);
}

/**
 * One page of the timeline of `profileId` (a merged id reads its survivor's timeline).
 * Cost: one Query per partition (the survivor and each merged profile, at most
 * `maxMergesPerProfile + 1`), each reading at most `limit` events.
 */
export async function readTimeline(
  store: ProfileStore,
  profileId: string,
  opts: { limit?: number; cursor?: string } = {},
): Promise<TimelinePage> {
  const limit = opts.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_TIMELINE_LIMIT) {
    throw new ValidationError(`limit must be an integer from 1 to ${MAX_TIMELINE_LIMIT}`, [
      { path: 'limit', message: `must be from 1 to ${MAX_TIMELINE_LIMIT}` },
    ]);
  }
  const before = opts.cursor === undefined ? undefined : decodeCursor(opts.cursor);
  const sp = (await resolveSurvivors(store, [profileId])).get(profileId);
  if (!sp) throw new NotFoundError('no such profile');
  const partitions = [sp.profile.id, ...(sp.profile.mergedFrom ?? [])];
  const pages = await Promise.all(partitions.map((id) => store.listEvents(id, limit, before)));
  // Merge-sort by position, newest first; an event stored twice (redelivered after a merge)
  // has the same position in both partitions and is shown once.
  const all = pages.flat().sort((a: TimelineEntry, b: TimelineEntry) => (a.position < b.position ? 1 : a.position > b.position ? -1 : 0));
  const events: TimelineEntry[] = [];
  for (const e of all) {
    if (events.length > 0 && events[events.length - 1]!.position === e.position) continue;
    if (events.length === limit) break;
    events.push(e);
  }
  const last = events[events.length - 1]?.position;
  // More pages: an older event was read but not returned, or a partition may hold more.
  const more = last !== undefined && (all.some((e) => e.position < last) || pages.some((p) => p.length === limit));
  return {
    profileId: sp.profile.id,
    events: events.map((e) => ({ profileId: e.profileId, event: e.event })),
    ...(more ? { cursor: encodeCursor(last) } : {}),
  };
}
