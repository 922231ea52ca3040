/**
 * Lifting a suppression (`DELETE /v1/suppressions/{type}:{value}`, admin key): an erased
 * person's identifier may identify someone again (a recycled phone number, an erasure made by
 * mistake). The marker goes; an audit item stays in its place (`SUP#<digest>` / `LIFTED#<at>`:
 * when and by which key kind, no identifier value) and the function logs the same. Later events
 * with the identifier are stored again; what was erased stays erased.
 */
import { DEFAULT_CONFIG, type IdentityConfig } from '../core/config';
import { NotFoundError } from '../core/errors';
import type { ErasureStore } from './ports';
import { parseProfileKey } from './profiles';

export interface LiftResult {
  readonly lifted: true;
  readonly at: string;
}

export async function liftSuppression(
  store: ErasureStore,
  key: string,
  by: string,
  identity: IdentityConfig = DEFAULT_CONFIG.identity,
  now: Date = new Date(),
): Promise<LiftResult> {
  const id = parseProfileKey(key, identity);
  const at = now.toISOString();
  if (!(await store.liftSuppression(id, { at, by }))) throw new NotFoundError(`the identifier ${id.type}:… is not suppressed`);
  return { lifted: true, at };
}
