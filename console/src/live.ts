/** The live view's entries (pure: kept by id, newest first). */
export const EVENT_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;

export interface DebugEntry {
  id: string;
  receivedAt: string;
  status: 'accepted' | 'rejected';
  sourceId: string;
  route: string;
  index: number;
  type?: string;
  event?: string;
  messageId?: string;
  reason?: string;
  field?: string;
  issues?: { path: string; message: string }[];
  payload: string;
}

/** Entries kept in the page (the newest). */
const KEEP = 500;

/** Merges new entries into the kept ones by id, newest first, at most {@link KEEP}. */
export function mergeEntries(kept: readonly DebugEntry[], fresh: readonly DebugEntry[]): DebugEntry[] {
  const byId = new Map<string, DebugEntry>();
  for (const e of kept) byId.set(e.id, e);
  for (const e of fresh) byId.set(e.id, e);
  return [...byId.values()].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).slice(0, KEEP);
}
