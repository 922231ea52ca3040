/**
 * The bus contract, version 1 (JSON Schema in `schemas/bus/`): what every event Scherp puts
 * on the bus carries. Pure.
 */
import { createHash } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { TraceEntry } from './engine';

export const CONTRACT_VERSION = '1';

export const DETAIL_TYPES = {
  actionTriggered: 'Action Triggered',
  audienceEntered: 'Audience Entered',
  audienceExited: 'Audience Exited',
  profileMerged: 'Profile Merged',
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
  const p = parsePhoneNumberFromString(String(phone).trim());
  return p?.isValid() ? p.number : undefined;
}

/** The person as a target sees them: what each kind of target needs and nothing more. */
export interface Person {
  readonly userId?: string;
  readonly email?: string;
  readonly phone?: string;
}

/** A person's contact points from profile identifiers (`user_id:`, `email:`) and traits. */
export function personOf(identifiers: readonly string[] | undefined, traits: Record<string, unknown>): Person {
  const id = (type: string) => identifiers?.find((i) => i.startsWith(`${type}:`))?.slice(type.length + 1);
  return {
    userId: id('user_id'),
    email: normaliseEmail(traits.email ?? id('email')),
    phone: normalisePhone(traits.phone ?? id('phone')),
  };
}

/**
 * Hashed identity for ad platforms: SHA-256 of the normalised email, of the E.164 phone
 * (Google) and of its digits only (Meta).
 */
export function hashedIdentity(p: Person): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (p.email) out.emailSha256 = sha256(p.email);
  if (p.phone) {
    out.phoneSha256 = sha256(p.phone);
    out.phoneDigitsSha256 = sha256(p.phone.slice(1));
  }
  return Object.keys(out).length > 0 ? out : undefined;
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
export function explanation(trace: readonly TraceEntry[]): { path: string; op: string; expected?: unknown; actual: unknown; result: boolean }[] {
  return trace.map((t) => ({ path: t.path, op: t.op, ...(t.expected !== undefined ? { expected: t.expected } : {}), actual: t.actual ?? null, result: t.result }));
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
      profileId: i.profileId,
      ...identityFields(i.person, 'ads'),
      trigger: i.trigger,
      firedAt: i.at,
      explanation: explanation(i.trace),
    },
  };
}
