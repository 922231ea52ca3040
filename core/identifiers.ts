/**
 * Identifiers without the phone-number metadata: their keys, placeholder values, and extracting
 * them from an event with a pluggable phone parser. `core/identity.ts` plugs in libphonenumber
 * (what stitch, profile and import use); collect only asks whether an event has any usable
 * identifier and does so without the 118 KB of metadata (`hasUsableIdentifier`). Pure.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_CONFIG, EXTERNAL_IDS_SOURCE, type IdentityConfig } from './config';
import { isAbsent, type FieldIssue, type ScherpEvent } from './events';
import { own } from './dict';

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

/**
 * The digest an identifier is kept as where its value must not be (suppression markers, refusal
 * records): the SHA-256 (hex) of `type:value`.
 */
export function identifierDigest(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * An identifier as a record names another person's (a link the limits refused): `type#<digest>`,
 * the type and {@link identifierDigest} only. Never mistaken for `type:value` (type names hold no
 * `#` and refs no `:`).
 */
export function identifierRef(key: string): string {
  const i = key.indexOf(':');
  return `${i > 0 ? key.slice(0, i) : 'unknown'}#${identifierDigest(key)}`;
}

/** The type and digest of a ref (`identifierRef`); undefined for anything else. */
export function parseIdentifierRef(ref: string): { readonly type: string; readonly digest: string } | undefined {
  const m = /^([a-z][a-z0-9_]{0,39})#([0-9a-f]{64})$/.exec(ref);
  return m ? { type: m[1]!, digest: m[2]! } : undefined;
}

/** The type of `type:value` or of a ref. */
export function identifierTypeOf(keyOrRef: string): string | undefined {
  return parseIdentifierRef(keyOrRef)?.type ?? parseIdentifierKey(keyOrRef)?.type;
}

/** Values that mean "no identifier" and must never link people together. */
const BLOCKED = new Set(['', 'null', 'undefined', 'unknown', 'anonymous', '-1', 'nan']);

/** False for placeholders (`anonymous`, `null`, `0`, `---`, …) and configured blocked values. */
export function isUsableValue(value: string, extraBlocked: readonly string[] = []): boolean {
  const v = value.trim().toLowerCase();
  if (BLOCKED.has(v) || /^[0-]*$/.test(v)) return false;
  return !extraBlocked.some((b) => b.trim().toLowerCase() === v);
}

/** Why a value an event carries does not count as an identifier. */
export type InvalidReason = 'blocked' | 'too_long' | 'invalid' | 'unknown_type';

export type NormalisedValue = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly reason: InvalidReason };

/** A phone number in E.164, or undefined when the text is not a valid number. */
export type PhoneParser = (text: string, defaultRegion: string) => string | undefined;

/** Normalises one value of a type (see `normaliseIdentifier` in core/identity.ts), with the given phone parser. */
export function normaliseWith(type: string, raw: unknown, cfg: IdentityConfig, phone: PhoneParser): NormalisedValue {
  const def = own(cfg.types, type);
  if (!def) return { ok: false, reason: 'unknown_type' };
  if (typeof raw !== 'string' && !(typeof raw === 'number' && Number.isFinite(raw))) return { ok: false, reason: 'invalid' };
  let value = String(raw).trim();
  if (!isUsableValue(value, cfg.blockedValues)) return { ok: false, reason: 'blocked' };
  // Control characters would break logs and exports; no identifier needs them.
  if (/[\u0000-\u001f\u007f]/.test(value)) return { ok: false, reason: 'invalid' };
  if (def.format === 'email') {
    value = value.toLowerCase();
    if (!/^[^\s@]+@[^\s@]+$/.test(value)) return { ok: false, reason: 'invalid' };
  } else if (def.format === 'phone') {
    if (value.length > 64) return { ok: false, reason: 'too_long' };
    const e164 = phone(value, cfg.phoneDefaultRegion);
    if (e164 === undefined) return { ok: false, reason: 'invalid' };
    value = e164;
  }
  if (value.length > cfg.maxIdentifierLength) return { ok: false, reason: 'too_long' };
  return { ok: true, value };
}

/** A value the event carried that does not identify anyone (logged by type and reason only). */
export interface RejectedIdentifier {
  readonly type: string;
  readonly reason: InvalidReason;
}

export interface ExtractedIdentifiers {
  /** Valid identifiers, distinct, in priority order. */
  readonly identifiers: Identifier[];
  readonly rejected: RejectedIdentifier[];
}

/** The fields identifiers are read from. */
export type IdentifiableEvent = Pick<ScherpEvent, 'type' | 'userId' | 'anonymousId' | 'previousId'> & {
  readonly traits?: Record<string, unknown>;
  readonly context?: Record<string, unknown>;
};

/** The parts of each configured source path (`traits.email`), split once. */
const PATH_PARTS = new Map<string, readonly string[]>();

function at(obj: unknown, path: string): unknown {
  let parts = PATH_PARTS.get(path);
  if (!parts) PATH_PARTS.set(path, (parts = path.split('.')));
  let cur: unknown = obj;
  for (const part of parts) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** The type an alias's `previousId` has: an `anonymous_id` when it equals the event's anonymousId, a `user_id` otherwise. */
export function previousIdType(e: Pick<IdentifiableEvent, 'previousId' | 'anonymousId'>): 'anonymous_id' | 'user_id' {
  return e.previousId === e.anonymousId ? 'anonymous_id' : 'user_id';
}

/**
 * Every identifier an event carries, normalised by `normalise`, distinct and in priority order,
 * and the values that were dropped (see `extractEventIdentifiers` in core/identity.ts).
 */
export function extractWith(
  e: IdentifiableEvent,
  cfg: IdentityConfig,
  normalise: (type: string, raw: unknown, cfg: IdentityConfig) => NormalisedValue,
): ExtractedIdentifiers {
  const found: Identifier[] = [];
  const rejected: RejectedIdentifier[] = [];
  const add = (type: string, raw: unknown) => {
    if (raw === undefined || raw === null) return;
    const n = normalise(type, raw, cfg);
    if (!n.ok) rejected.push({ type, reason: n.reason });
    else if (!found.some((f) => f.type === type && f.value === n.value)) found.push({ type, value: n.value });
  };
  const externalIds = at(e, EXTERNAL_IDS_SOURCE);
  for (const [type, def] of Object.entries(cfg.types)) {
    for (const source of def.from) {
      if (source !== EXTERNAL_IDS_SOURCE) add(type, at(e, source));
    }
  }
  if (Array.isArray(externalIds)) {
    for (const x of externalIds) {
      if (typeof x !== 'object' || x === null || typeof (x as { type?: unknown }).type !== 'string') continue;
      const type = (x as { type: string }).type.trim().toLowerCase();
      if (own(cfg.types, type)?.from.includes(EXTERNAL_IDS_SOURCE)) add(type, (x as { id?: unknown }).id);
      else rejected.push({ type: 'external', reason: 'unknown_type' });
    }
  }
  if (e.type === 'alias' && e.previousId !== undefined) add(previousIdType(e), e.previousId);
  const rank = new Map(cfg.priority.map((t, i) => [t, i]));
  const identifiers = found
    .map((id, i) => ({ id, i }))
    .sort((a, b) => rank.get(a.id.type)! - rank.get(b.id.type)! || a.i - b.i)
    .map((x) => x.id);
  return { identifiers, rejected };
}

/**
 * Whether an event carries an identifier that may be usable, for collect's check: exact for
 * every type but phones, where any value with at least 3 digits passes (the shortest valid
 * numbers have 4). A phone that is not a valid number is dropped by stitch, which normalises it
 * fully; an event left with no identifier then is dropped there (metric EventsWithoutIdentifier).
 */
export function hasUsableIdentifier(e: IdentifiableEvent, cfg: IdentityConfig = DEFAULT_CONFIG.identity): boolean {
  // `extractWith(e, cfg, normalisePlausibly).identifiers.length > 0`, stopping at the first
  // usable value (collect asks this of every event).
  for (const [type, def] of Object.entries(cfg.types)) {
    for (const source of def.from) if (source !== EXTERNAL_IDS_SOURCE && plausiblyUsable(type, at(e, source), cfg)) return true;
  }
  const externalIds = at(e, EXTERNAL_IDS_SOURCE);
  if (Array.isArray(externalIds)) {
    for (const x of externalIds) {
      if (typeof x !== 'object' || x === null || typeof (x as { type?: unknown }).type !== 'string') continue;
      const type = (x as { type: string }).type.trim().toLowerCase();
      if (own(cfg.types, type)?.from.includes(EXTERNAL_IDS_SOURCE) && plausiblyUsable(type, (x as { id?: unknown }).id, cfg)) return true;
    }
  }
  return e.type === 'alias' && e.previousId !== undefined && plausiblyUsable(previousIdType(e), e.previousId, cfg);
}

function plausiblyUsable(type: string, raw: unknown, cfg: IdentityConfig): boolean {
  return raw !== undefined && raw !== null && normalisePlausibly(type, raw, cfg).ok;
}

const plausiblePhone: PhoneParser = (text) => ((text.match(/\d/g)?.length ?? 0) >= 3 ? text : undefined);
const normalisePlausibly = (type: string, raw: unknown, cfg: IdentityConfig) => normaliseWith(type, raw, cfg, plausiblePhone);

/** Why an event's `userId` or `anonymousId` does not identify anyone. */
export type UnusableIdReason = 'missing' | 'null' | 'empty' | 'placeholder' | 'unusable';

const REASON_TEXT: Readonly<Record<UnusableIdReason, string>> = {
  missing: 'is missing',
  null: 'is null',
  empty: 'is empty',
  placeholder: 'is a placeholder value',
  unusable: 'is not a usable identifier',
};

/** The reason a raw id field is not usable, or undefined when it may be (its shape is the schema's to check). */
export function unusableIdReason(raw: unknown): UnusableIdReason | undefined {
  if (raw === undefined) return 'missing';
  if (raw === null) return 'null';
  if (isAbsent(raw)) return 'empty';
  if ((typeof raw === 'string' || typeof raw === 'number') && !isUsableValue(String(raw))) return 'placeholder';
  return undefined;
}

/**
 * collect's identifier check of one non-alias call: none when it is fine, else one issue for
 * `userId` and one for `anonymousId`, each saying why (missing, null, empty, placeholder).
 * `raw` is the event as sent (to tell null from empty), `parsed` the schema's output when it
 * parsed. `null` and `""` mean absent, as in the Segment spec: a call needs at least one of the
 * two, and some usable identifier (a placeholder `anonymousId` next to a valid `traits.email`
 * is fine). Without `parsed` only the two fields are looked at.
 */
/** An id field that holds a value (usable or a placeholder), as {@link identifierIssues} asks. */
function isGiven(r: UnusableIdReason | undefined): boolean {
  return r === undefined || r === 'placeholder';
}

export function identifierIssues(
  raw: { readonly userId?: unknown; readonly anonymousId?: unknown },
  parsed: IdentifiableEvent | undefined,
  prefix = '',
): FieldIssue[] {
  const user = unusableIdReason(raw.userId);
  const anonymous = unusableIdReason(raw.anonymousId);
  if (isGiven(user) || isGiven(anonymous)) {
    if (!parsed ? user === undefined || anonymous === undefined : hasUsableIdentifier(parsed)) return [];
  }
  const why = 'userId or anonymousId must be a usable id (null, "" and placeholders such as "anonymous" or "0" count as absent)';
  const issue = (field: 'userId' | 'anonymousId', reason: UnusableIdReason | undefined): FieldIssue => ({
    path: prefix ? `${prefix}.${field}` : field,
    message: `${REASON_TEXT[reason ?? 'unusable']}${reason === 'placeholder' ? ` (${JSON.stringify(String(raw[field]))})` : ''}; ${why}`,
  });
  return [issue('userId', user), issue('anonymousId', anonymous)];
}
