/**
 * The identity circuit breaker: pure. A profile that absorbs too many profiles, or gains too many
 * identifiers of one type, within a window is not a person but a shared device, a test account
 * or a hard-coded id (a kiosk's `device_id`, `user_id: "test"`): it is quarantined, so it stops
 * swallowing everyone who touches it. The window is fixed (it starts at the first counted link
 * and restarts once `windowSeconds` have passed), kept on the profile root as three numbers, so
 * counting costs no read and no write of its own: the root is written anyway when it gains a
 * profile or an identifier.
 */
import type { IdentityConfig } from './config';
import { parseIdentifierKey } from './identifiers';
import type { BreakerWindow, IdentityAnomaly } from './profile';

export type BreakerConfig = IdentityConfig['quarantine'];

/** The window in force at `now` (a fresh one when the stored one has run out). */
export function currentWindow(w: BreakerWindow | undefined, now: string, cfg: BreakerConfig): BreakerWindow {
  if (w && Date.parse(now) - Date.parse(w.since) < cfg.windowSeconds * 1000) return w;
  return { since: now, merges: 0, ids: Object.create(null) as Record<string, number> };
}

/** New identifiers per type: keys in `after` not in `before`. */
export function addedByType(before: readonly string[], after: Iterable<string>): Map<string, number> {
  const had = new Set(before);
  const out = new Map<string, number>();
  for (const k of after) {
    if (had.has(k)) continue;
    const t = parseIdentifierKey(k)?.type;
    if (t !== undefined) out.set(t, (out.get(t) ?? 0) + 1);
  }
  return out;
}

/** Why linking `merges` more profiles and `added` identifiers would trip the breaker, if it would. */
export function wouldTrip(
  w: BreakerWindow | undefined,
  merges: number,
  added: ReadonlyMap<string, number>,
  now: string,
  cfg: BreakerConfig,
): IdentityAnomaly | undefined {
  if (!cfg.enabled) return undefined;
  const cur = currentWindow(w, now, cfg);
  if (merges > 0 && cur.merges + merges > cfg.merges)
    return { reason: 'merges', count: cur.merges + merges, limit: cfg.merges, windowSeconds: cfg.windowSeconds };
  for (const [t, n] of added) {
    const count = (Object.hasOwn(cur.ids, t) ? cur.ids[t]! : 0) + n;
    if (n > 0 && count > cfg.identifiers)
      return { reason: 'identifiers', identifierType: t, count, limit: cfg.identifiers, windowSeconds: cfg.windowSeconds };
  }
  return undefined;
}

/** The window after a write that absorbed `merges` profiles and added `added` identifiers. */
export function countedWindow(
  w: BreakerWindow | undefined,
  merges: number,
  added: ReadonlyMap<string, number>,
  now: string,
  cfg: BreakerConfig,
): BreakerWindow | undefined {
  if (!cfg.enabled || (merges === 0 && added.size === 0)) return w;
  const cur = currentWindow(w, now, cfg);
  const ids = Object.assign(Object.create(null) as Record<string, number>, cur.ids);
  for (const [t, n] of added) ids[t] = (Object.hasOwn(ids, t) ? ids[t]! : 0) + n;
  return { since: cur.since, merges: cur.merges + merges, ids };
}
