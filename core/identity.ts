/**
 * Which identifiers an event carries, and how profiles that share them combine: pure.
 */
import type { ScherpEvent } from './events';

export interface Identifier {
  readonly type: string;
  readonly value: string;
}

/** `type:value`, the form identifiers take in the API (`GET /v1/profiles/user_id:42`). */
export function identifierKey(id: Identifier): string {
  return `${id.type}:${id.value}`;
}

/** Parses `type:value`; the value may itself contain `:`. */
export function parseIdentifierKey(key: string): Identifier | undefined {
  const i = key.indexOf(':');
  if (i <= 0 || i === key.length - 1) return undefined;
  return { type: key.slice(0, i), value: key.slice(i + 1) };
}

/** Values that mean "no identifier" and must never link people together. */
const BLOCKED = new Set(['', 'null', 'undefined', 'unknown', 'anonymous', '-1', 'nan']);

export function isUsableValue(value: string): boolean {
  const v = value.trim().toLowerCase();
  return !BLOCKED.has(v) && !/^[0-]*$/.test(v);
}

/** The identifiers an event links: its userId and anonymousId (alias: previousId too). */
export function extractIdentifiers(e: Pick<ScherpEvent, 'type' | 'userId' | 'anonymousId' | 'previousId'>): Identifier[] {
  const out: Identifier[] = [];
  const add = (type: string, value: string | undefined) => {
    if (value === undefined || !isUsableValue(value)) return;
    if (!out.some((o) => o.type === type && o.value === value)) out.push({ type, value });
  };
  add('user_id', e.userId);
  add('anonymous_id', e.anonymousId);
  if (e.type === 'alias' && e.previousId !== undefined) {
    // Segment's alias links a previous id, which may be either an anonymous or a user id.
    add(e.previousId === e.anonymousId ? 'anonymous_id' : 'user_id', e.previousId);
  }
  return out;
}

/**
 * The survivor of a merge: the smallest profile id. Profile ids sort by creation time, so the
 * oldest profile survives, and every worker picks the same one whatever order it saw them in.
 */
export function chooseSurvivor(profileIds: readonly string[]): string {
  if (profileIds.length === 0) throw new Error('chooseSurvivor needs at least one profile id');
  return [...profileIds].sort()[0]!;
}
