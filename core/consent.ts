/**
 * Consent per purpose (`email`, `ads`, `personalization`, …) from events: Segment's
 * `context.consent.categoryPreferences` and identify traits (`traits.consent`). Newer wins per
 * purpose, so events applied in any order give the same result. Pure; a small module on its own
 * so the profile work (#5) can take it over.
 */
import type { ScherpEvent } from './events';
import { dict, own } from './dict';
import { identifyTraits } from './profile';

export type ConsentStatus = 'granted' | 'denied';

export interface ConsentEntry {
  readonly status: ConsentStatus;
  /** When the event that set it happened (ISO-8601). */
  readonly at: string;
}

export type Consent = Readonly<Record<string, ConsentEntry>>;

/** `Email Marketing` → `email_marketing`. */
export function purposeName(raw: string): string {
  return raw
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40);
}

function status(v: unknown): ConsentStatus | undefined {
  if (v === true || v === 'granted' || v === 'yes' || v === 'true' || v === 'opt_in' || v === 1) return 'granted';
  if (v === false || v === 'denied' || v === 'no' || v === 'false' || v === 'opt_out' || v === 0) return 'denied';
  return undefined;
}

function collect(into: Record<string, ConsentStatus>, prefs: unknown): void {
  if (prefs === null || typeof prefs !== 'object' || Array.isArray(prefs)) return;
  for (const [k, v] of Object.entries(prefs)) {
    const purpose = purposeName(k);
    const s = status(v);
    if (purpose && s) into[purpose] = s;
  }
}

/** The consent statements an event makes, or undefined when it makes none. */
export function consentFromEvent(e: Pick<ScherpEvent, 'type' | 'context' | 'traits'>): Record<string, ConsentStatus> | undefined {
  const out = dict<ConsentStatus>();
  const ctxConsent = e.context?.consent as { categoryPreferences?: unknown } | undefined;
  collect(out, ctxConsent?.categoryPreferences);
  collect(out, identifyTraits(e)?.consent);
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Applies statements made at `at`; returns the same object when nothing changed. */
export function applyConsent(current: Consent, statements: Record<string, ConsentStatus>, at: string): Consent {
  let next: Record<string, ConsentEntry> | undefined;
  for (const [purpose, s] of Object.entries(statements)) {
    const old = own(current, purpose);
    if (old && (old.at > at || (old.at === at && (old.status === s || old.status === 'denied')))) continue;
    next ??= dict(current);
    next[purpose] = { status: s, at };
  }
  return next ?? current;
}

/** The consent of merged profiles: per purpose the newest statement (denied wins a tie). Commutative. */
export function mergeConsent(current: Consent, other: Consent): Consent {
  let out = current;
  for (const [purpose, e] of Object.entries(other)) out = applyConsent(out, dict([[purpose, e.status]]), e.at);
  return out;
}

/** Plain statuses, as rules see them (`profile.consent.email` → `granted`). */
export function consentValues(c: Consent): Record<string, ConsentStatus> {
  const out = dict<ConsentStatus>();
  for (const [k, v] of Object.entries(c)) out[k] = v.status;
  return out;
}
