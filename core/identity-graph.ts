/**
 * The identity graph of a person as the API explains it (`GET /v1/profiles/{id}/identity`), and
 * the requests that change it by hand (split, release): schemas and pure assembly, no I/O.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { identifierDigest, parseIdentifierRef } from './identifiers';
import type { LinkEvidence, MergeRecord, Quarantine } from './profile';

/** A merge's id in the API: short, stable, derived from the record's key (survivor, event time, message id). */
export function mergeIdOf(r: Pick<MergeRecord, 'profileId' | 'eventTimestamp' | 'messageId'>): string {
  return `m_${createHash('sha256').update(`${r.profileId}\u0000${r.eventTimestamp}\u0000${r.messageId}`).digest('hex').slice(0, 24)}`;
}

/** A split's id: stable per (kept profile, kind, target), so a retry finds the split it repeats. */
export function splitIdOf(profileId: string, kind: SplitKind, target: string): string {
  return `s_${createHash('sha256').update(`${profileId}\u0000${kind}\u0000${target}`).digest('hex').slice(0, 24)}`;
}

const IsoTime = z.string().meta({ format: 'date-time' });

const LinkedBySchema = z
  .object({ messageId: z.string(), sourceId: z.string(), timestamp: IsoTime })
  .meta({ id: 'LinkedBy', description: 'The event that linked it: its message id, source and own timestamp.' });

export const IdentityGraphSchema = z
  .object({
    profileId: z.string(),
    identifiers: z.array(
      z.object({
        id: z.string().meta({ description: '`type:value`' }),
        /** The profile whose identity item it is (the survivor, or a profile merged into it). */
        profileId: z.string(),
        linkedAt: IsoTime.nullable().meta({ description: 'When it was linked; null when its identity item is gone.' }),
        linkedBy: LinkedBySchema.nullable().meta({ description: 'Null for identifiers linked before evidence was recorded.' }),
        blocked: z.literal('global').optional().meta({ description: 'Blocked from linking anything again.' }),
      }),
    ),
    merges: z.array(
      z.object({
        id: z.string().meta({ description: 'The merge id `POST …/split` takes as `undoMerge`.' }),
        at: IsoTime,
        profiles: z.array(z.string()).meta({ description: 'The absorbing profile first, then the profiles it absorbed.' }),
        linkedBy: LinkedBySchema.extend({
          identifiers: z.array(z.string()).meta({ description: 'The identifiers that linked them (`type:value`).' }),
          others: z.array(z.object({ type: z.string(), digest: z.string().meta({ description: 'SHA-256 (hex) of `type:value`.' }) })).meta({
            description:
              'Identifiers that linked them which this profile no longer holds (separated by a split, or erased): the record keeps their type and digest only.',
          }),
          sourceId: z.string().nullable(),
          via: z.literal('alias').optional(),
        }),
      }),
    ),
    refused: z.array(
      z.object({
        at: IsoTime,
        profileId: z.string().meta({ description: 'The profile the links were refused into.' }),
        reason: z.enum(['merge_cap', 'alias_limit', 'quarantine']),
        identifiers: z.array(z.string()).meta({ description: 'Refused identifiers this profile holds (`type:value`).' }),
        others: z.array(z.object({ type: z.string(), digest: z.string().meta({ description: 'SHA-256 (hex) of `type:value`.' }) })).meta({
          description:
            'Refused identifiers this profile does not hold (another person’s, or erased): the record keeps their type and digest only.',
        }),
        linkedBy: LinkedBySchema.extend({ sourceId: z.string().nullable() }),
      }),
    ),
    splits: z.array(
      z.object({
        id: z.string(),
        at: IsoTime,
        kind: z.enum(['detach', 'undoMerge']),
        profiles: z.array(z.string()).meta({ description: 'The kept profile first, then the separated ones.' }),
      }),
    ),
    quarantine: z
      .object({
        at: IsoTime,
        reason: z.enum(['merges', 'identifiers']),
        identifierType: z.string().optional(),
        count: z.number().int(),
        limit: z.number().int(),
        windowSeconds: z.number().int(),
      })
      .optional()
      .meta({ description: 'Set while the circuit breaker holds the profile: merges into it are refused.' }),
  })
  .meta({ id: 'IdentityGraph' });

export type IdentityGraph = z.infer<typeof IdentityGraphSchema>;

export const SPLIT_KINDS = ['detach', 'undoMerge'] as const;
export type SplitKind = (typeof SPLIT_KINDS)[number];
export const BLOCK_SCOPES = ['profile', 'global'] as const;
export type BlockScope = (typeof BLOCK_SCOPES)[number];

export const SplitRequestSchema = z
  .union([
    z.strictObject({
      detach: z.string().min(3).max(1100).meta({ description: 'The identifier `type:value` to take off the profile.' }),
      block: z.enum(BLOCK_SCOPES).optional().meta({
        description: '`profile`: it may never link to this profile again; `global`: it never links anything again.',
      }),
    }),
    z.strictObject({ undoMerge: z.string().min(1).max(100).meta({ description: 'A merge id from the explain answer.' }) }),
  ])
  .meta({ id: 'SplitRequest' });

export type SplitRequest = z.infer<typeof SplitRequestSchema>;

export const SplitResultSchema = z
  .object({
    splitId: z.string(),
    kind: z.enum(SPLIT_KINDS),
    at: IsoTime,
    /** The profile that keeps the rest. */
    kept: z.object({ profileId: z.string(), identifiers: z.array(z.string()) }),
    separated: z.array(z.object({ profileId: z.string(), identifiers: z.array(z.string()) })),
    /** Timeline events moved to the partition of the side they belong to (events arriving meanwhile are moved too, not counted). */
    moved: z.number().int(),
    block: z.enum(BLOCK_SCOPES).optional(),
  })
  .meta({ id: 'SplitResult' });

export type SplitResult = z.infer<typeof SplitResultSchema>;

/** What one identity item says. */
export interface IdentityItemView {
  readonly profileId: string;
  readonly at: string;
  readonly by?: LinkEvidence;
  readonly blocked?: 'global';
}

/** A split as stored (the record in the kept profile's partition). */
export interface SplitRecord {
  readonly splitId: string;
  readonly at: string;
  readonly kind: SplitKind;
  /** Kept first. */
  readonly profiles: readonly string[];
  /** Types of the identifiers that left (for the announcement). */
  readonly identifierTypes: readonly string[];
  /**
   * The answer without identifier values (`identifiers` empty): the record outlives an erasure of
   * either side, so it names no identifier; a repeat fills them in from the profiles.
   */
  readonly result: SplitResult;
}

/** Assembles the explain answer (pure). */
export function explainGraph(input: {
  readonly profileId: string;
  readonly identifiers: readonly string[];
  readonly items: ReadonlyMap<string, IdentityItemView>;
  readonly records: readonly MergeRecord[];
  readonly splits: readonly SplitRecord[];
  readonly quarantine?: Quarantine;
}): IdentityGraph {
  const by = (r: MergeRecord) => ({ messageId: r.messageId, sourceId: r.sourceId ?? null, timestamp: r.eventTimestamp });
  const sorted = [...input.records].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const refused: IdentityGraph['refused'] = [];
  // Refusal records keep refs (type and digest): the profile's own identifiers are named again.
  const own = new Map(input.identifiers.map((k) => [identifierDigest(k), k]));
  // Identifiers and refs as the profile names them: its own as `type:value`, others by type and digest.
  const named = (ids: readonly string[]) => {
    const identifiers: string[] = [];
    const others: { type: string; digest: string }[] = [];
    for (const x of ids) {
      const ref = parseIdentifierRef(x);
      const key = ref ? own.get(ref.digest) : x; // a record from before refs holds `type:value`
      if (key !== undefined) identifiers.push(key);
      else others.push({ type: ref!.type, digest: ref!.digest });
    }
    return { identifiers, others };
  };
  for (const r of sorted) {
    const add = (reason: IdentityGraph['refused'][number]['reason'], ids: readonly string[] | undefined) => {
      if (!ids || ids.length === 0) return;
      refused.push({ at: r.at, profileId: r.profileId, reason, ...named(ids), linkedBy: by(r) });
    };
    add('merge_cap', r.refused);
    add('alias_limit', r.aliasRefused);
    add('quarantine', r.quarantineRefused);
  }
  return {
    profileId: input.profileId,
    identifiers: input.identifiers.map((id) => {
      const it = input.items.get(id);
      return {
        id,
        profileId: it?.profileId ?? input.profileId,
        linkedAt: it?.at ?? null,
        linkedBy: it?.by ?? null,
        ...(it?.blocked ? { blocked: it.blocked } : {}),
      };
    }),
    merges: sorted
      .filter((r) => r.merged.length > 0)
      .map((r) => ({
        id: mergeIdOf(r),
        at: r.at,
        profiles: [r.profileId, ...r.merged],
        // A split rewrites the record's identifiers of the side that left as refs (`app/split.ts`).
        linkedBy: { ...by(r), ...named(r.identifiers), ...(r.via ? { via: r.via } : {}) },
      })),
    refused,
    splits: [...input.splits]
      .sort((a, b) => (a.at < b.at ? -1 : 1))
      .map((s) => ({ id: s.splitId, at: s.at, kind: s.kind, profiles: [...s.profiles] })),
    ...(input.quarantine ? { quarantine: { ...input.quarantine } } : {}),
  };
}
