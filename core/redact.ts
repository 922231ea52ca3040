/**
 * Redaction: what erasure does to an item that is someone else's but names the erased person (an
 * event on another profile's timeline carrying an identifier of theirs that did not link there).
 * Pure.
 */

/**
 * A copy of a JSON value without every string or number, and every object key, that `names` is
 * true of (object properties and array elements holding one are left out), and how many were
 * left out (a scalar `value` itself is kept: only what an object or array holds is taken out).
 * `names` gets each scalar as JSON text (a `PayloadMatcher` of `core/mentions.ts` fits).
 */
export function redactNamed<T>(value: T, names: (json: string) => boolean): { readonly value: T; readonly removed: number } {
  let removed = 0;
  const named = (v: unknown) => (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) && names(JSON.stringify(v));
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > 256 || typeof v !== 'object' || v === null) return v;
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      for (const x of v) {
        if (named(x)) removed++;
        else out.push(walk(x, depth + 1));
      }
      return out;
    }
    const out: Record<string, unknown> = Object.create(null);
    for (const [k, x] of Object.entries(v)) {
      if (named(k) || named(x)) removed++;
      else out[k] = walk(x, depth + 1);
    }
    return out;
  };
  const out = walk(value, 0) as T;
  return { value: out, removed };
}
