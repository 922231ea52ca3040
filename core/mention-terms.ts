/**
 * Index terms of kept rejected events: the identifier-like values a payload holds, reduced to a
 * form the person's identifiers reduce to as well, so erasure and export look a person's records
 * up by their identifiers instead of reading every kept record. Pure, and without the phone
 * metadata (collect writes the index), so it over-approximates: the records a lookup finds are
 * confirmed by `core/mentions.ts` before anything is returned or deleted.
 *
 * A payload's terms:
 * - `t:<value>` (trimmed, lower-cased) for every string or number under a key named like an
 *   identifier field (`userId`, `anonymousId`, `previousId`, `id` as in `context.device.id` and
 *   `context.externalIds[].id`, `advertisingId`), at any depth;
 * - `t:<email>` for every email address anywhere (a whole string or inside one, key or value,
 *   also in the issues: an issue path may hold a trait key);
 * - `p:<last 7 digits>` for every phone-shaped run anywhere (7 to 15 digits with the usual
 *   separators): whatever the format (`+31 6 98765432`, `06-98765432`, `0031698765432`), the
 *   subscriber number comes last.
 * An identifier's terms: `t:<value>` (lower-cased) for text and email identifiers, `p:<last 7
 * digits>` for phone numbers.
 */
import type { IdentifierTypeConfig } from './config';
import type { Identifier } from './identifiers';

/** Most distinct terms one kept record is indexed under; a payload with more is not kept. */
export const MAX_MENTION_TERMS = 32;

/** Digits of a phone number every way of writing it ends with. */
const PHONE_TAIL = 7;

const ID_KEYS = new Set(['userid', 'anonymousid', 'previousid', 'id', 'advertisingid']);
/** Characters that end an address inside a longer text (a URL, a sentence, an issue path). */
const EMAIL_STOP = new Set([...' \t\n\r"\'<>()[]{},;:\\/=&?@']);
const PHONE = /\+?\(?\d[\d\s().\-/]{5,22}\d/g;
const WHOLE_EMAIL = /^[^\s@]+@[^\s@]+$/;
const NOT_PHONE = /^(\d{4}-\d{2}-\d{2}|\d{1,3}(\.\d{1,3}){3})$/;
const STRING_LITERAL = /"(?:[^"\\]|\\.)*"/g;
/** `"key": "value"` or `"key": 123` in text that is not whole JSON (cut to size). */
const PAIR = /"((?:[^"\\]|\\.)*)"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*)/g;

function phoneTerm(digits: string): string | undefined {
  return digits.length >= PHONE_TAIL && digits.length <= 17 ? `p:${digits.slice(-PHONE_TAIL)}` : undefined;
}

/** The terms of one string found anywhere: its email addresses and phone-shaped runs. */
function freeTerms(s: string, out: Set<string>): void {
  // Addresses as the normaliser takes them (any character but space and `@` around one `@`), as
  // whole words, and as the tokens of URLs and issue paths.
  if (s.includes('@')) {
    for (const word of s.split(/[\s"]+/)) if (WHOLE_EMAIL.test(word)) out.add(`t:${word.toLowerCase()}`);
    for (const email of emailTokens(s)) {
      out.add(`t:${email}`);
      // `traits.ada@example.com` (an issue path): the address may start after a dot.
      const at = email.indexOf('@');
      for (let i = email.indexOf('.'); i >= 0 && i < at; i = email.indexOf('.', i + 1)) out.add(`t:${email.slice(i + 1)}`);
    }
  }
  for (const m of s.matchAll(PHONE)) {
    // Dates and IPv4 addresses are no phone numbers (and every payload has them).
    if (NOT_PHONE.test(m[0].trim())) continue;
    const t = phoneTerm(m[0].replace(/\D/g, ''));
    if (t) out.add(t);
  }
}

/** The addresses inside a text, lower-cased: around each `@`, up to the next stop character (linear time). */
function emailTokens(s: string): string[] {
  const out: string[] = [];
  for (let at = s.indexOf('@'); at >= 0; at = s.indexOf('@', at + 1)) {
    let from = at;
    while (from > 0 && !EMAIL_STOP.has(s[from - 1]!)) from--;
    let to = at + 1;
    while (to < s.length && !EMAIL_STOP.has(s[to]!)) to++;
    if (from < at && to > at + 1) out.push(s.slice(from, to).toLowerCase());
  }
  return out;
}

function idTerm(value: unknown, out: Set<string>): void {
  if (typeof value === 'number' && Number.isFinite(value)) out.add(`t:${String(value)}`);
  else if (typeof value === 'string' && value.trim().length > 0 && value.length <= 1000) out.add(`t:${value.trim().toLowerCase()}`);
}

function walk(value: unknown, out: Set<string>, depth: number): void {
  if (typeof value === 'string') freeTerms(value, out);
  else if (typeof value === 'number') freeTerms(String(value), out);
  else if (depth > 64 || typeof value !== 'object' || value === null) return;
  else if (Array.isArray(value)) for (const v of value) walk(v, out, depth + 1);
  else {
    for (const [k, v] of Object.entries(value)) {
      freeTerms(k, out);
      if (ID_KEYS.has(k.toLowerCase())) idTerm(v, out);
      walk(v, out, depth + 1);
    }
  }
}

/**
 * The terms a kept record (its payload text and its issues as JSON text) is indexed under, or
 * undefined when it holds more than {@link MAX_MENTION_TERMS}.
 */
export function mentionTerms(payload: string, issues: string): string[] | undefined {
  const out = new Set<string>();
  try {
    walk(JSON.parse(payload), out, 0);
  } catch {
    // Cut to size: identifier fields by their key, and every string literal still whole.
    for (const m of payload.matchAll(PAIR)) {
      let key = m[1]!;
      try {
        key = JSON.parse(`"${key}"`) as string;
      } catch {
        // keep it as written
      }
      if (ID_KEYS.has(key.toLowerCase())) {
        try {
          idTerm(JSON.parse(m[2]!), out);
        } catch {
          idTerm(m[2]!.replace(/^"|"$/g, ''), out);
        }
      }
    }
    for (const m of payload.matchAll(STRING_LITERAL)) freeTerms(m[0], out);
    // A string cut in the middle: what is left of it after the last complete literal.
    freeTerms(payload.slice(payload.lastIndexOf('"')), out);
  }
  freeTerms(issues, out);
  return out.size <= MAX_MENTION_TERMS ? [...out] : undefined;
}

/** The terms a record naming this identifier is indexed under (values as stored, normalised). */
export function identifierTerms(id: Identifier, format: IdentifierTypeConfig['format']): string[] {
  if (format === 'phone') {
    const t = phoneTerm(id.value.replace(/\D/g, ''));
    return t ? [t] : [];
  }
  return [`t:${id.value.trim().toLowerCase()}`];
}
