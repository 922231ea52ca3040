/**
 * The bus contract, version 1 (JSON Schema in `schemas/bus/`): what every event Scherp puts
 * on the bus carries. Pure.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { parsePhone } from '../phone';
import type { TraceEntry } from './engine';

export const CONTRACT_VERSION = '1';

export const DETAIL_TYPES = {
  actionTriggered: 'Action Triggered',
  audienceEntered: 'Audience Entered',
  audienceExited: 'Audience Exited',
  profileMerged: 'Profile Merged',
  profileMergeRefused: 'Profile Merge Refused',
  profileSplit: 'Profile Split',
  identityAnomaly: 'Identity Anomaly',
} as const;

export interface BusEvent {
  readonly detailType: string;
  readonly detail: Record<string, unknown>;
}

/** Stable per (trigger, definition, action): targets drop redeliveries by it. */
export function dedupeId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** Trimmed and lower-cased, as Meta and Google require before hashing. */
export function normaliseEmail(email: unknown): string | undefined {
  if (typeof email !== 'string') return undefined;
  const e = email.trim().toLowerCase();
  return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(e) ? e : undefined;
}

/** E.164 (`+31612345678`); undefined unless the number carries a valid country code. */
export function normalisePhone(phone: unknown): string | undefined {
  if (typeof phone !== 'string' && typeof phone !== 'number') return undefined;
  const p = parsePhone(String(phone).trim());
  return p?.isValid() ? p.number : undefined;
}

/** The person as a target sees them: what each kind of target needs and nothing more. */
export interface Person {
  readonly userId?: string;
  readonly email?: string;
  readonly phone?: string;
}

/**
 * A person's contact points from profile traits and identifiers (`user_id:`, `email:`). The
 * `email` and `phone` traits are the winning values, so from the most trusted source
 * (`core/trust.ts`); without the trait an identifier is used only when the profile holds exactly
 * one of that type (identifiers carry no source, so of several none is known to be theirs).
 */
export function personOf(identifiers: readonly string[] | undefined, traits: Record<string, unknown>): Person {
  const id = (type: string) => identifiers?.find((i) => i.startsWith(`${type}:`))?.slice(type.length + 1);
  const only = (type: string) => ((identifiers ?? []).filter((i) => i.startsWith(`${type}:`)).length === 1 ? id(type) : undefined);
  return {
    userId: id('user_id'),
    email: normaliseEmail(traits.email ?? only('email')),
    phone: normalisePhone(traits.phone ?? only('phone')),
  };
}

/**
 * Hashed identity for ad platforms: SHA-256 of the normalised email, of the E.164 phone
 * (Google) and of its digits only (Meta).
 */
export function hashedIdentity(p: Person): Record<string, string> | undefined {
  if (!p.email && !p.phone) return undefined;
  return {
    ...(p.email ? { emailSha256: sha256(p.email) } : {}),
    ...(p.phone ? { phoneSha256: sha256(p.phone), phoneDigitsSha256: sha256(p.phone.slice(1)) } : {}),
  };
}

export type Target = 'email' | 'ads' | 'webhook';

function identityFields(person: Person, target: Target | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (person.userId) out.userId = person.userId;
  if (target === 'email' && person.email) out.email = person.email;
  if (target === 'ads') {
    const hashed = hashedIdentity(person);
    if (hashed) out.hashed = hashed;
  }
  return out;
}

/**
 * The explanation: every condition evaluated, the value it saw and its outcome (a `not` shows
 * its inner condition as false; an `any` stops at the first true branch).
 */
export function explanation(
  trace: readonly TraceEntry[],
): { path: string; op: string; expected?: unknown; actual: unknown; result: boolean }[] {
  return trace.map((t) => ({
    path: t.path,
    op: t.op,
    ...(t.expected !== undefined ? { expected: t.expected } : {}),
    actual: t.actual ?? null,
    result: t.result,
  }));
}

export interface ActionTriggeredInput {
  readonly ruleId: string;
  readonly action: string;
  readonly profileId: string;
  readonly trigger: { readonly messageId: string; readonly event?: string; readonly timestamp: string };
  readonly dedupeId: string;
  readonly person: Person;
  readonly target?: Target;
  readonly data: Record<string, unknown>;
  readonly trace: readonly TraceEntry[];
  /** When the rule decided to fire (ISO-8601). */
  readonly at: string;
}

export function actionTriggered(i: ActionTriggeredInput): BusEvent {
  return {
    detailType: DETAIL_TYPES.actionTriggered,
    detail: {
      version: CONTRACT_VERSION,
      dedupeId: i.dedupeId,
      ruleId: i.ruleId,
      action: i.action,
      ...(i.target ? { target: i.target } : {}),
      profileId: i.profileId,
      ...identityFields(i.person, i.target),
      trigger: i.trigger,
      firedAt: i.at,
      firedAtUnix: Math.floor(Date.parse(i.at) / 1000),
      data: i.data,
      explanation: explanation(i.trace),
    },
  };
}

export interface AudienceChangeInput {
  readonly audienceId: string;
  readonly audienceName: string;
  readonly entered: boolean;
  readonly profileId: string;
  readonly trigger: { readonly messageId: string; readonly event?: string; readonly timestamp: string };
  readonly dedupeId: string;
  readonly person: Person;
  /** Set when a rule action (not the audience's own condition) changed the membership. */
  readonly ruleId?: string;
  readonly trace: readonly TraceEntry[];
  readonly at: string;
  /** Set when a backfill (creating or changing the audience), not an event, changed the membership. */
  readonly backfill?: boolean;
}

/** `Audience Entered` / `Exited`: carries the hashes ad platforms match on. */
export function audienceChanged(i: AudienceChangeInput): BusEvent {
  return {
    detailType: i.entered ? DETAIL_TYPES.audienceEntered : DETAIL_TYPES.audienceExited,
    detail: {
      version: CONTRACT_VERSION,
      dedupeId: i.dedupeId,
      audienceId: i.audienceId,
      audienceName: i.audienceName,
      ...(i.ruleId ? { ruleId: i.ruleId } : {}),
      ...(i.backfill ? { backfill: true } : {}),
      profileId: i.profileId,
      ...identityFields(i.person, 'ads'),
      trigger: i.trigger,
      firedAt: i.at,
      firedAtUnix: Math.floor(Date.parse(i.at) / 1000),
      explanation: explanation(i.trace),
    },
  };
}

/*
 * The contract as zod schemas: emitted events are tested against them, and the JSON Schema
 * files in `schemas/bus/` are generated from them (see `busJsonSchemas`).
 */
const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const Trigger = z
  .object({ messageId: z.string(), event: z.string().optional(), timestamp: z.string() })
  .describe('The event that made the rule or audience fire.');
const Explanation = z
  .array(z.object({ path: z.string(), op: z.string(), expected: z.unknown().optional(), actual: z.unknown(), result: z.boolean() }))
  .describe('Every condition evaluated, the value it saw and its outcome.');
const Hashed = z
  .object({ emailSha256: hex64.optional(), phoneSha256: hex64.optional(), phoneDigitsSha256: hex64.optional() })
  .describe('SHA-256 of the trimmed, lower-cased email; of the E.164 phone (Google); of its digits only (Meta).');
const common = {
  version: z.literal(CONTRACT_VERSION),
  dedupeId: z.string().describe('Stable per trigger event and rule action (or audience change): drop repeats.'),
  profileId: z.string(),
  userId: z.string().optional(),
  trigger: Trigger,
  firedAt: z.string().describe('When Scherp decided (ISO-8601).'),
  firedAtUnix: z.number().int().describe("The same in epoch seconds (what Meta's event_time takes)."),
  explanation: Explanation,
};

export const ActionTriggeredDetailSchema = z.object({
  ...common,
  ruleId: z.string(),
  action: z.string().describe('The action name from the rule.'),
  target: z.enum(['email', 'ads', 'webhook']).optional(),
  email: z.string().optional().describe('Only for target email.'),
  hashed: Hashed.optional().describe('Only for target ads.'),
  data: z.record(z.string(), z.unknown()).describe("The fields the rule's action chose from the event and profile."),
});

export const AudienceChangedDetailSchema = z.object({
  ...common,
  audienceId: z.string(),
  audienceName: z.string(),
  ruleId: z.string().optional().describe('Set when a rule action, not the audience condition, changed the membership.'),
  backfill: z
    .literal(true)
    .optional()
    .describe('Set when a backfill (the audience was created or changed), not an event of the person, changed the membership.'),
  hashed: Hashed.optional(),
});

const mergeCommon = {
  version: z.literal(CONTRACT_VERSION),
  dedupeId: z.string().describe('Stable per merge record and kind: drop repeats.'),
  profileId: z.string().describe('The surviving profile.'),
  messageId: z.string().describe('The event that linked the profiles.'),
  at: z.string().describe('When the merge was decided (ISO-8601).'),
};

export const ProfileMergedDetailSchema = z.object({
  ...mergeCommon,
  mergedProfileIds: z.array(z.string()).describe('Profiles merged into it.'),
  identifierTypes: z.array(z.string()).describe('Types of the identifiers that linked them (never their values).'),
  via: z.literal('alias').optional().describe('Set when an alias call (an explicit instruction to merge) made the merge.'),
});

export const ProfileMergeRefusedDetailSchema = z.object({
  ...mergeCommon,
  reason: z
    .enum(['merge_cap', 'alias_limit'])
    .describe('merge_cap: identity.maxMergesPerProfile reached; alias_limit: identity.alias.limit reached.'),
  refusedIdentifierTypes: z.array(z.string()).describe('Types of the identifiers left unlinked (never their values).'),
});

export const ProfileSplitDetailSchema = z.object({
  version: z.literal(CONTRACT_VERSION),
  dedupeId: z.string().describe('Stable per split: drop repeats.'),
  splitId: z.string(),
  kind: z.enum(['detach', 'undoMerge']).describe('detach: one identifier taken off; undoMerge: a merge undone.'),
  profileId: z.string().describe('The profile that kept the rest.'),
  separatedProfileIds: z.array(z.string()).describe('The profiles separated from it (revived merged profiles, or a new one).'),
  identifierTypes: z.array(z.string()).describe('Types of the identifiers that left (never their values).'),
  block: z.enum(['profile', 'global']).optional().describe('The detached identifier may not link to this profile / anything again.'),
  at: z.string().describe('When the split was made (ISO-8601).'),
});

export const IdentityAnomalyDetailSchema = z.object({
  version: z.literal(CONTRACT_VERSION),
  dedupeId: z.string().describe('Stable per anomaly: drop repeats.'),
  profileId: z.string().describe('The profile the circuit breaker quarantined.'),
  messageId: z.string().describe('The event whose link tripped it (refused).'),
  reason: z.enum(['merges', 'identifiers']).describe('merges: too many profiles absorbed; identifiers: too many of one type gained.'),
  identifierType: z.string().optional().describe('For identifiers: the type.'),
  count: z.number().int().describe('What the window would have held with the refused link.'),
  limit: z.number().int(),
  windowSeconds: z.number().int(),
  at: z.string().describe('When the profile was quarantined (ISO-8601).'),
});

export type ProfileSplitDetail = z.infer<typeof ProfileSplitDetailSchema>;
export type IdentityAnomalyDetail = z.infer<typeof IdentityAnomalyDetailSchema>;
export type ProfileMergedDetail = z.infer<typeof ProfileMergedDetailSchema>;
export type ProfileMergeRefusedDetail = z.infer<typeof ProfileMergeRefusedDetailSchema>;

export const DETAIL_SCHEMAS = {
  [DETAIL_TYPES.actionTriggered]: ActionTriggeredDetailSchema,
  [DETAIL_TYPES.audienceEntered]: AudienceChangedDetailSchema,
  [DETAIL_TYPES.audienceExited]: AudienceChangedDetailSchema,
  [DETAIL_TYPES.profileMerged]: ProfileMergedDetailSchema,
  [DETAIL_TYPES.profileMergeRefused]: ProfileMergeRefusedDetailSchema,
  [DETAIL_TYPES.profileSplit]: ProfileSplitDetailSchema,
  [DETAIL_TYPES.identityAnomaly]: IdentityAnomalyDetailSchema,
} as const;

/** The JSON Schema documents of `schemas/bus/`, by file name: the EventBridge envelope per detail-type. */
export function busJsonSchemas(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [detailType, schema] of Object.entries(DETAIL_SCHEMAS)) {
    const file = `${detailType.toLowerCase().replace(/ /g, '-')}.v${CONTRACT_VERSION}.json`;
    out[file] = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: `https://scherp.dev/schemas/bus/${file}`,
      title: `Scherp ${detailType} v${CONTRACT_VERSION}`,
      type: 'object',
      properties: {
        source: { const: 'scherp' },
        'detail-type': { const: detailType },
        detail: (({ $schema: _drop, ...rest }) => rest)(z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>),
      },
      required: ['source', 'detail-type', 'detail'],
    };
  }
  return out;
}
