/**
 * Whether a kept payload (a rejected event's JSON, cut to a bounded size) names a person, given
 * the person's identifiers as stored (normalised): pure. Used by erasure and export to find the
 * rejected-event records about someone.
 *
 * A payload names the person when
 * - some string (or number) in it, at any depth, key or value, normalises to one of their
 *   identifiers under that identifier's type: `Ada@Example.COM` is `email:ada@example.com`, a
 *   phone number in national format is its E.164 form, and a phone number written in any of its
 *   own country's national or international forms matches whatever the default region
 *   ({@link phoneWritings}); or
 * - the raw text contains one of their identifier values, case-insensitively, anywhere (a value
 *   inside a longer string, or a payload cut in the middle of a string). Only values of at least
 *   {@link MIN_SUBSTRING_CHARS} characters are searched for this way: `user_id:7` would otherwise
 *   name every payload with a 7 in a timestamp.
 *
 * A payload that is not valid JSON (cut to size) is read as the JSON string literals it still
 * holds. The matcher errs on the side of matching: a false match deletes a debugging record of
 * someone else, a missed one keeps personal data after an erasure.
 */
import { parsePhone } from './phone';
import { DEFAULT_CONFIG, type IdentifierTypeConfig, type IdentityConfig } from './config';
import { normaliseIdentifier, type Identifier } from './identity';
import { identifierTerms } from './mention-terms';

/** Shortest identifier value searched for as a substring of the raw text. */
export const MIN_SUBSTRING_CHARS = 4;

/** A complete JSON string literal (the text before a cut is a valid JSON prefix, so they stay in step). */
const STRING_LITERAL = /"(?:[^"\\]|\\.)*"/g;

/**
 * A predicate over kept payloads: does this one name the person? With the index terms of the
 * person's identifiers (`core/mention-terms.ts`), under which a store finds the candidates.
 */
export type PayloadMatcher = ((payload: string) => boolean) & { readonly terms: readonly string[] };

/** Every string and finite number of a parsed JSON value, keys included. */
function collectScalars(value: unknown, out: string[], depth = 0): void {
  if (typeof value === 'string') out.push(value);
  else if (typeof value === 'number' && Number.isFinite(value)) out.push(String(value));
  else if (depth > 256 || typeof value !== 'object' || value === null) return;
  else if (Array.isArray(value)) for (const v of value) collectScalars(v, out, depth + 1);
  else {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      collectScalars(v, out, depth + 1);
    }
  }
}

/** The strings (and numbers) a payload holds; for text that is not JSON, its complete string literals. */
export function payloadStrings(payload: string): string[] {
  const out: string[] = [];
  try {
    collectScalars(JSON.parse(payload), out);
    return out;
  } catch {
    // Cut to size, or not JSON at all: the string literals that are still whole.
  }
  for (const m of payload.matchAll(STRING_LITERAL)) {
    try {
      out.push(JSON.parse(m[0]) as string);
    } catch {
      out.push(m[0].slice(1, -1));
    }
  }
  return out;
}

/**
 * Digits at the end of a stored phone number that any way of writing it still has in a row (the
 * subscriber number comes last in every national and international format).
 */
const PHONE_TAIL_DIGITS = 4;

/**
 * A cheap test that rules out almost every string before `normaliseIdentifier` runs on it (a
 * payload holds hundreds; parsing one as a phone number costs ~20 µs). It must never rule out a
 * string that normalises to one of `values`: text values are only trimmed by normalisation, emails
 * trimmed and lowercased (a unit test holds `normaliseIdentifier` to that), and a phone number keeps
 * its last digits.
 */
function candidateTest(format: IdentifierTypeConfig['format'], values: ReadonlySet<string>): (s: string) => boolean {
  if (format === 'text') return (s) => values.has(s.trim());
  if (format === 'email') return (s) => values.has(s.trim().toLowerCase());
  // The tail digits in a row, whatever separates them (`56 78`, `56-78`).
  const tails = [...values].map((v) => new RegExp([...v.replace(/\D/g, '').slice(-PHONE_TAIL_DIGITS)].join('\\D*')));
  return (s) => tails.some((t) => t.test(s));
}

/** Characters a phone number is written with besides its digits. */
const PHONE_SHAPE = /^[\d\s+().\-/]+$/;

/**
 * The digit strings a stored (E.164) phone number is written as in any country, not only the
 * default region: `+31698765432` is `31698765432`, `0031698765432` (the `00` exit code),
 * `011 31 …` (North America's), `0698765432` (national, with the trunk prefix) and `698765432`
 * (the national number alone).
 */
export function phoneWritings(e164: string): string[] {
  const p = parsePhone(e164);
  if (!p) return [e164.replace(/\D/g, '')];
  const international = `${p.countryCallingCode}${p.nationalNumber}`;
  return [
    ...new Set([
      international,
      `00${international}`,
      `011${international}`,
      p.formatNational().replace(/\D/g, ''),
      String(p.nationalNumber),
    ]),
  ];
}

/** Strings that are a phone number written in any of its national or international forms. */
function phoneWrittenAs(values: ReadonlySet<string>): (s: string) => boolean {
  const digits = new Set([...values].flatMap(phoneWritings));
  return (s) => PHONE_SHAPE.test(s) && digits.has(s.replace(/\D/g, ''));
}

/**
 * A matcher for the payloads naming any of these identifiers (values as stored, normalised by
 * `normaliseIdentifier` under `cfg`). No identifiers: matches nothing.
 */
export function payloadMatcher(ids: readonly Identifier[], cfg: IdentityConfig = DEFAULT_CONFIG.identity): PayloadMatcher {
  const distinct = ids.filter((id) => id.value.length > 0);
  const terms = [
    ...new Set(
      distinct.flatMap((id) =>
        cfg.types[id.type] ? identifierTerms(id, cfg.types[id.type]!.format) : [`t:${id.value.trim().toLowerCase()}`],
      ),
    ),
  ];
  return Object.assign(matcherOf(distinct, cfg), { terms });
}

function matcherOf(distinct: readonly Identifier[], cfg: IdentityConfig): (payload: string) => boolean {
  if (distinct.length === 0) return () => false;
  const needles = [...new Set(distinct.filter((id) => id.value.length >= MIN_SUBSTRING_CHARS).map((id) => id.value.toLowerCase()))];
  const containsNeedle = (text: string) => {
    const lower = text.toLowerCase();
    return needles.some((n) => lower.includes(n));
  };
  // Per configured type: the values wanted and the cheap test (a type not configured matches no string).
  const byType = new Map<string, Set<string>>();
  for (const id of distinct) if (cfg.types[id.type]) byType.set(id.type, (byType.get(id.type) ?? new Set()).add(id.value));
  const types = [...byType].map(([type, values]) => ({
    type,
    values,
    candidate: candidateTest(cfg.types[type]!.format, values),
    writtenAs: cfg.types[type]!.format === 'phone' ? phoneWrittenAs(values) : () => false,
  }));
  const namesSomeone = (s: string) =>
    types.some(({ type, values, candidate, writtenAs }) => {
      if (!candidate(s)) return false;
      if (writtenAs(s.trim())) return true;
      const n = normaliseIdentifier(type, s, cfg);
      return n.ok && values.has(n.value);
    });
  return (payload) => {
    if (containsNeedle(payload)) return true;
    // Decoded strings are searched too when the text has escapes: a value with characters JSON
    // escapes (`"`, `\`) is not verbatim in the text.
    const escaped = payload.includes('\\');
    return payloadStrings(payload).some((s) => namesSomeone(s) || (escaped && containsNeedle(s)));
  };
}

/** Whether the payload names any of these identifiers (see {@link payloadMatcher}). */
export function payloadMentions(payload: string, ids: readonly Identifier[], cfg: IdentityConfig = DEFAULT_CONFIG.identity): boolean {
  return payloadMatcher(ids, cfg)(payload);
}
