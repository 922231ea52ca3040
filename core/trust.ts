/**
 * Source trust for identity traits: pure.
 *
 * A `public` source's write key is in page source or an app (the browser key, the bootstrap
 * write key), so anyone can send events as it, for any user id. Its word must not replace what a
 * `trusted` (server) source said about the traits that route messages to a person: for the
 * protected traits (config `traits.protected`, default `email` and `phone`) a value from a
 * trusted source beats every value from a public one, whatever their order or times; among
 * values of the same trust the usual ranking applies (source precedence, then the newer event).
 *
 * Trust is stored only when it is `trusted`: an absent stamp (events, trait values and sources
 * from before trust levels, rule-set traits) counts as public, the safe side.
 */
import type { Trust } from './events';

/** The traits a public source cannot take over from a trusted one by default. */
export const DEFAULT_PROTECTED_TRAITS: readonly string[] = ['email', 'phone'];

/** 0 for trusted, 1 for public (absent): lower is stronger. */
export function trustRank(v: { readonly trust?: Trust }): number {
  return v.trust === 'trusted' ? 0 : 1;
}

/** Whether `trait` is protected under the configured list (`undefined`: the defaults). */
export function isProtectedTrait(trait: string, list: readonly string[] | undefined): boolean {
  return (list ?? DEFAULT_PROTECTED_TRAITS).includes(trait);
}

/** The stamp stored for a trust level: only `trusted` is written. */
export function trustStamp(trust: Trust | undefined): { trust?: 'trusted' } {
  return trust === 'trusted' ? { trust: 'trusted' } : {};
}
