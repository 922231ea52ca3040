/**
 * Maps keyed by user input (trait names, identifier types, purposes, config keys, CSV columns)
 * are null-prototype objects built here: a key such as `toString`, `constructor` or
 * `__proto__` is then an ordinary key, never a member of `Object.prototype`. Pure.
 */

/** A null-prototype object; with entries (pairs, or an object's own enumerable properties) copied in. */
export function dict<V>(from?: Iterable<readonly [string, V]> | Readonly<Record<string, V>>): Record<string, V> {
  const out = Object.create(null) as Record<string, V>;
  if (from === undefined || from === null) return out;
  const entries: Iterable<readonly [string, V]> =
    Symbol.iterator in Object(from) ? (from as Iterable<readonly [string, V]>) : Object.entries(from as Record<string, V>);
  for (const [k, v] of entries) {
    // A null-prototype object has no `__proto__` accessor, so this is a plain own property.
    out[k] = v;
  }
  return out;
}

/** The own property `key` of `obj` (never one inherited from a prototype), or undefined. */
export function own<V>(obj: Readonly<Record<string, V>> | undefined | null, key: string): V | undefined {
  return obj !== undefined && obj !== null && Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** Whether `obj` has its own property `key`. */
export function has(obj: object | undefined | null, key: string): boolean {
  return obj !== undefined && obj !== null && Object.hasOwn(obj, key);
}
