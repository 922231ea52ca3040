/**
 * The storage invariant check (`npx scherp check`, and the teardown of every runtime-based and
 * table-based test): one snapshot of the whole table, every invariant of `core/invariants.ts`.
 */
import { checkInvariants, type CheckOptions, type CheckReport } from '../core/invariants';
import type { StorageScanner } from './ports';

export async function checkStorage(scanner: StorageScanner, opts: CheckOptions = {}): Promise<CheckReport> {
  return checkInvariants(await scanner.snapshot(), opts);
}
