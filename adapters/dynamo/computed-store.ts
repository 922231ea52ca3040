/**
 * Computed traits in the `PROFILE#C` part: each value a plain attribute (as rules read it),
 * plus `_a` (the auxiliary state as JSON), `_r` (hashes of the last applied events), `_s` (the
 * highest stream sequence number applied per source partition), `_m` (sealed: merged into that
 * profile) and `ver`.
 * Written with a put conditioned on the version read, so concurrent writers cannot lose an update.
 */
import { BatchGetCommand, type BatchGetCommandOutput, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EMPTY_COMPUTED, type Aux, type ComputedState } from '../../core/computed';
import type { ComputedStore, StoredComputed } from '../../app/ports';
import { putVersioned } from './conditions';
import { profileIdOf } from './event-codec';
import { keys } from './keys';
import { dict } from '../../core/dict';
import { storable } from '../../core/numbers';

const AUX = '_a';
const RECENT = '_r';
/** The stream marks (`ComputedState.seen`), oldest first, each `partition=sequence`. */
const SEEN = '_s';
/** Sealed: merged into this profile (`ComputedState.into`). */
const INTO = '_m';
/** Attributes of the item that are not computed values. */
export function isComputedValueAttribute(name: string): boolean {
  return !['pk', 'sk', 'ver', 'ttl'].includes(name) && !name.startsWith('_');
}

export function decodeComputed(item: Record<string, unknown> | undefined): StoredComputed {
  if (!item) return { state: EMPTY_COMPUTED, version: 0 };
  const values = dict(Object.entries(item).filter(([k]) => isComputedValueAttribute(k)));
  const aux = dict(typeof item[AUX] === 'string' ? (JSON.parse(item[AUX]) as Record<string, Aux>) : {});
  const recent = Array.isArray(item[RECENT]) ? (item[RECENT] as string[]) : [];
  const marks = Array.isArray(item[SEEN]) ? (item[SEEN] as string[]) : [];
  const seen = dict(Object.fromEntries(marks.map((m) => m.split('=', 2) as [string, string])));
  const into = typeof item[INTO] === 'string' ? { into: item[INTO] } : {};
  return { state: { values, aux, recent, ...(marks.length > 0 ? { seen } : {}), ...into }, version: (item.ver as number) ?? 0 };
}

/** The item's attributes for a state (without keys and version). */
export function computedAttributes(state: ComputedState): Record<string, unknown> {
  return {
    ...storable(state.values),
    [AUX]: JSON.stringify(state.aux),
    [RECENT]: [...state.recent],
    ...(state.seen ? { [SEEN]: Object.entries(state.seen).map(([k, v]) => `${k}=${v}`) } : {}),
    ...(state.into ? { [INTO]: state.into } : {}),
  };
}

export class DynamoComputedStore implements ComputedStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async load(profileIds: readonly string[]): Promise<Map<string, StoredComputed>> {
    const out = new Map<string, StoredComputed>();
    for (let i = 0; i < profileIds.length; i += 100) {
      let request: Record<string, unknown>[] | undefined = profileIds.slice(i, i + 100).map((id) => keys.computed(id));
      for (let attempt = 0; request && request.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
        const res: BatchGetCommandOutput = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: request, ConsistentRead: true } } }),
        );
        for (const it of res.Responses?.[this.tableName] ?? []) out.set(profileIdOf(it.pk as string), decodeComputed(it));
        request = res.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return out;
  }

  save(profileId: string, state: ComputedState, expectedVersion: number): Promise<boolean> {
    // `storable`: a value DynamoDB cannot hold as a number (first/last of an unchecked property) is kept as its string.
    return putVersioned(this.doc, this.tableName, keys.computed(profileId), computedAttributes(state), expectedVersion);
  }
}
