/**
 * The browser-safe context (`POST /v1/context`): what a website may learn about its own
 * visitor with the public write key. Only what the `context` config section marks public is
 * returned; identifiers, consent and every unlisted trait stay out. Pure.
 */
import * as z from 'zod';

const name = z.string().min(1).max(200);

/** The `context` config section. `*` in a list means every one. */
export const ContextConfigSchema = z
  .object({
    /** Trait names whose values a browser may read. @default none */
    traits: z.array(name).max(200).default([]),
    /** Computed trait names a browser may read. @default none */
    computed: z.array(name).max(200).default([]),
    /** Audience ids a browser may learn the visitor is in (`*`: all). @default none */
    audiences: z.array(name).max(200).default([]),
    /** Recommendation slots a browser may read (`*`: all); rules write them for on-site use. @default all */
    recommendations: z.array(name).max(200).default(['*']),
    /**
     * Whether a `userId` may be looked up without a `userToken` (then anyone with the public key
     * can read the public context of any user id they guess). With `userToken` a user id is
     * always looked up. @default false
     */
    allowUserId: z.boolean().default(false),
    /** Longest a `userToken` may be valid ahead (its `exp` minus now), seconds. @default 3600 */
    userTokenMaxLifetimeSeconds: z.number().int().min(1).max(86_400).default(3600),
  })
  .strict();

export type ContextConfig = z.output<typeof ContextConfigSchema>;

/** The request body: the visitor, as the page knows it (analytics.js `user().anonymousId()`). */
export const ContextRequestSchema = z
  .object({
    anonymousId: z.string().min(1).max(100).optional(),
    userId: z.string().min(1).max(100).optional(),
    /** Proof from the site's back end that the visitor is `userId` (`core/user-token.ts`). */
    userToken: z.string().min(1).max(200).optional(),
    /** The write key, for pages that cannot set an Authorization header. */
    writeKey: z.string().min(1).max(200).optional(),
  })
  .strict()
  .refine((r) => r.anonymousId !== undefined || r.userId !== undefined, {
    message: 'anonymousId or userId is required',
    path: ['anonymousId'],
  })
  .refine((r) => r.userToken === undefined || r.userId !== undefined, { message: 'is only valid with userId', path: ['userToken'] });

export type ContextRequest = z.output<typeof ContextRequestSchema>;

export interface PublicContext {
  readonly audiences: readonly string[];
  readonly traits: Record<string, unknown>;
  readonly computed: Record<string, unknown>;
  /** Slot → the pending recommendation's data and expiry. */
  readonly recommendations: Record<string, { readonly data: Record<string, unknown>; readonly expiresAt: string }>;
}

export const EMPTY_CONTEXT: PublicContext = { audiences: [], traits: {}, computed: {}, recommendations: {} };

import { dict, has } from './dict';

const allowed = (list: readonly string[], key: string) => list.includes('*') || list.includes(key);

function pick(values: Record<string, unknown>, list: readonly string[]): Record<string, unknown> {
  const out = dict<unknown>();
  for (const k of list) if (k !== '*' && has(values, k)) out[k] = values[k];
  return out;
}

/** What the browser gets of a profile: the public subset, pending recommendations only. */
export function publicContext(
  cfg: ContextConfig,
  p: {
    traits: Record<string, unknown>;
    computed: Record<string, unknown>;
    audiences: readonly string[];
    recommendations: Readonly<Record<string, { readonly data: Record<string, unknown>; readonly expiresAt: string }>>;
  },
  nowIso: string,
): PublicContext {
  const recommendations = dict<{ data: Record<string, unknown>; expiresAt: string }>();
  for (const [slot, r] of Object.entries(p.recommendations)) {
    if (allowed(cfg.recommendations, slot) && r.expiresAt > nowIso) recommendations[slot] = { data: r.data, expiresAt: r.expiresAt };
  }
  return {
    audiences: p.audiences.filter((a) => allowed(cfg.audiences, a)).sort(),
    // Traits and computed traits are listed by name: `*` never exposes them all.
    traits: pick(p.traits, cfg.traits),
    computed: pick(p.computed, cfg.computed),
    recommendations,
  };
}
