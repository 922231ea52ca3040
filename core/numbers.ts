/**
 * The numbers rule, in one place. JSON numbers are IEEE doubles in JavaScript, and DynamoDB
 * stores numbers of at most 38 digits between 1e-130 and 9.99e125 (lib-dynamodb refuses
 * anything beyond ±(2^53 − 1) outright). So:
 *
 * - a number in a request body that a double cannot carry exactly (beyond ±(2^53 − 1), such as
 *   `9007199254740993`, `12345678901234567890123` or `1e200`) or that DynamoDB cannot store
 *   (a magnitude below 1e-130) is kept as a string of its digits exactly as sent
 *   ({@link parseJson}); an identifier sent that way therefore keeps every digit;
 * - computed traits only count numbers that are stored exactly, and sums and averages stay
 *   within ±(2^53 − 1) ({@link clampSafe});
 * - nothing Scherp writes as a DynamoDB number attribute is outside that range
 *   ({@link storable}). Pure.
 */

/** Smallest magnitude DynamoDB stores. */
export const MIN_DYNAMO_MAGNITUDE = 1e-130;

/** Whether DynamoDB (through lib-dynamodb) stores `x` exactly: finite, within ±(2^53 − 1), zero or at least 1e-130 in magnitude. */
export function isStorableNumber(x: number): boolean {
  return Number.isFinite(x) && Math.abs(x) <= Number.MAX_SAFE_INTEGER && (x === 0 || Math.abs(x) >= MIN_DYNAMO_MAGNITUDE);
}

/** `x` kept within ±(2^53 − 1) (NaN becomes 0). */
export function clampSafe(x: number): number {
  if (Number.isNaN(x)) return 0;
  return Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, x));
}

/**
 * A copy of a value in which every number DynamoDB cannot store exactly is its string form
 * (`1e+200`); the same value when it holds none. For what Scherp writes as number attributes.
 */
export function storable<T>(v: T): T {
  if (typeof v === 'number') return (isStorableNumber(v) ? v : String(v)) as T;
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) {
    let changed = false;
    const out = v.map((x) => {
      const y = storable(x);
      if (y !== x) changed = true;
      return y;
    });
    return (changed ? out : v) as T;
  }
  const entries = Object.entries(v as Record<string, unknown>);
  const next = entries.map(([k, x]) => [k, storable(x)] as const);
  if (next.every(([, y], i) => y === entries[i]![1])) return v;
  // Defined, not assigned: a key such as `__proto__` stays an ordinary key.
  const out = Object.create(Object.getPrototypeOf(v) as object | null) as Record<string, unknown>;
  for (const [k, y] of next) Object.defineProperty(out, k, { value: y, enumerable: true, writable: true, configurable: true });
  return out as T;
}

/** JSON strings (skipped whole) and number tokens, in the order they appear in valid JSON text. */
const TOKENS = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
/**
 * Text that may hold a number {@link isStorableNumber} refuses: a number token (in valid JSON
 * one follows `:`, `,`, `[` or the start, after whitespace) with 16+ digits in a row or an
 * exponent. Digits inside strings (UUIDs such as `…d72e-471a…`) only match where a string holds
 * that punctuation right before them; the parsed value is then checked.
 */
const MAYBE_UNSAFE = /(?:^|[:,[])\s*-?(?:\d+(?:\.\d+)?[eE]|\d{16}|\d+\.\d*\d{16})/;

function hasUnsafe(v: unknown): boolean {
  if (typeof v === 'number') return !isStorableNumber(v);
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some(hasUnsafe);
  for (const k in v) if (Object.hasOwn(v, k) && hasUnsafe((v as Record<string, unknown>)[k])) return true;
  return false;
}

/**
 * `JSON.parse`, except that a number {@link isStorableNumber} refuses is kept as the string of
 * its digits as sent (`{"n": 12345678901234567890123}` gives `{ n: "12345678901234567890123" }`).
 * Throws a SyntaxError on invalid JSON, like `JSON.parse`.
 */
export function parseJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  if (!MAYBE_UNSAFE.test(text) || !hasUnsafe(value)) return value;
  return JSON.parse(
    text.replace(TOKENS, (tok) => {
      if (tok.charCodeAt(0) === 0x22) return tok;
      return isStorableNumber(Number(tok)) ? tok : `"${tok}"`;
    }),
  );
}
