/**
 * After a split has settled (`app/split.ts`), its announcement record reaches `evaluate` through
 * the stream (an outbox, as for merges): `Profile Split` on the bus, and the audiences of every
 * side evaluated again (entering or leaving as their traits and computed traits now say).
 * Identifier values stay in the table: the detail names their types only.
 */
import { createHash } from 'node:crypto';
import type { SplitRecord } from '../core/identity-graph';
import { CONTRACT_VERSION, DETAIL_TYPES, type ProfileSplitDetail } from '../core/rules/contract';
import type { ScherpEvent } from '../core/events';
import { reevaluateAudiences, type EvaluateDeps } from './evaluate';
import type { BusEntry } from './ports';

export function splitBusEntry(rec: SplitRecord): BusEntry {
  const detail: ProfileSplitDetail = {
    version: CONTRACT_VERSION,
    dedupeId: createHash('sha256').update(`split\u0000${rec.splitId}\u0000${rec.at}`).digest('hex').slice(0, 32),
    splitId: rec.splitId,
    kind: rec.kind,
    profileId: rec.profiles[0]!,
    separatedProfileIds: rec.profiles.slice(1),
    identifierTypes: [...rec.identifierTypes],
    ...(rec.result.block ? { block: rec.result.block } : {}),
    at: rec.at,
  };
  return { detailType: DETAIL_TYPES.profileSplit, detail };
}

/** Publishes `Profile Split`, then re-evaluates each side's audiences; returns what was published. */
export async function announceSplit(deps: EvaluateDeps, rec: SplitRecord): Promise<BusEntry[]> {
  const entry = splitBusEntry(rec);
  await deps.bus.publish([entry]);
  const trigger: ScherpEvent = {
    type: 'track',
    event: DETAIL_TYPES.profileSplit,
    messageId: rec.splitId,
    sourceId: 'scherp',
    timestamp: rec.at,
    receivedAt: rec.at,
  };
  const out = [entry];
  for (const id of rec.profiles) out.push(...(await reevaluateAudiences(deps, id, trigger)));
  return out;
}
