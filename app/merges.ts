/**
 * Announcing merges on the bus. Merge records are written in the same transaction as the merge
 * itself; the table's stream carries each new record to `evaluate`, which calls this: an
 * outbox, so a crash after the merge never loses the announcement.
 */
import { createHash } from 'node:crypto';
import { identifierTypeOf } from '../core/identity';
import type { MergeRecord } from '../core/profile';
import {
  CONTRACT_VERSION,
  DETAIL_TYPES,
  type IdentityAnomalyDetail,
  type ProfileMergeRefusedDetail,
  type ProfileMergedDetail,
} from '../core/rules/contract';
import type { Bus, BusEntry } from './ports';

export const PROFILE_MERGED = DETAIL_TYPES.profileMerged;
export const PROFILE_MERGE_REFUSED = DETAIL_TYPES.profileMergeRefused;

/**
 * The bus events a merge record stands for. Identifier values stay in the table (the bus
 * feeds logs): the detail names their types only.
 */
export function mergeBusEntries(r: MergeRecord): BusEntry[] {
  const dedupeId = (kind: string) =>
    createHash('sha256').update(`${kind}\u0000${r.profileId}\u0000${r.messageId}`).digest('hex').slice(0, 32);
  const types = (keys: readonly string[]) => [...new Set(keys.map((k) => identifierTypeOf(k) ?? 'unknown'))].sort();
  const base = { version: CONTRACT_VERSION as typeof CONTRACT_VERSION, profileId: r.profileId, messageId: r.messageId, at: r.at };
  const out: BusEntry[] = [];
  if (r.merged.length > 0) {
    const detail: ProfileMergedDetail = {
      ...base,
      mergedProfileIds: [...r.merged],
      identifierTypes: types(r.identifiers),
      ...(r.via ? { via: r.via } : {}),
      dedupeId: dedupeId('merged'),
    };
    out.push({ detailType: PROFILE_MERGED, detail });
  }
  const refused = (reason: ProfileMergeRefusedDetail['reason'], keys: readonly string[], kind: string): void => {
    const detail: ProfileMergeRefusedDetail = { ...base, reason, refusedIdentifierTypes: types(keys), dedupeId: dedupeId(kind) };
    out.push({ detailType: PROFILE_MERGE_REFUSED, detail });
  };
  if (r.refused.length > 0) refused('merge_cap', r.refused, 'refused');
  if (r.aliasRefused && r.aliasRefused.length > 0) refused('alias_limit', r.aliasRefused, 'alias-refused');
  // The circuit breaker tripped: announced once (later links refused by the quarantine are only recorded).
  if (r.anomaly) {
    const detail: IdentityAnomalyDetail = {
      version: CONTRACT_VERSION,
      profileId: r.profileId,
      messageId: r.messageId,
      reason: r.anomaly.reason,
      ...(r.anomaly.identifierType ? { identifierType: r.anomaly.identifierType } : {}),
      count: r.anomaly.count,
      limit: r.anomaly.limit,
      windowSeconds: r.anomaly.windowSeconds,
      at: r.at,
      dedupeId: dedupeId('anomaly'),
    };
    out.push({ detailType: DETAIL_TYPES.identityAnomaly, detail });
  }
  return out;
}

export async function announceMerge(bus: Bus, record: MergeRecord): Promise<number> {
  const entries = mergeBusEntries(record);
  if (entries.length > 0) await bus.publish(entries);
  return entries.length;
}
