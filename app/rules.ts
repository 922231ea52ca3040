/**
 * The rule set as evaluate sees it: loaded from the rule store, validated, compiled, and kept
 * for a short time so a burst of events costs one read of the rules.
 */
import { parseDefinition, RuleSet } from '../core/rules/engine';
import type { Definition } from '../core/rules/schema';
import type { RuleStore } from './ports';

export interface RuleCacheOptions {
  /** How long a loaded rule set is used before it is read again. @default 30000 */
  readonly ttlMs?: number;
  readonly now?: () => number;
  /** Told about stored rules that fail validation (they are skipped). */
  readonly onInvalid?: (id: unknown, err: unknown) => void;
}

export function cachedRuleSet(store: RuleStore, opts: RuleCacheOptions = {}): () => Promise<RuleSet> {
  const ttl = opts.ttlMs ?? 30_000;
  const now = opts.now ?? Date.now;
  let cached: { at: number; set: Promise<RuleSet> } | undefined;
  return () => {
    if (!cached || now() - cached.at > ttl) {
      const set = store.listRuleDocs().then((docs) => {
        const rules: Definition[] = [];
        for (const d of docs) {
          try {
            rules.push(parseDefinition(d));
          } catch (err) {
            opts.onInvalid?.((d as { id?: unknown })?.id, err);
          }
        }
        return new RuleSet(rules);
      });
      set.catch(() => (cached = undefined));
      cached = { at: now(), set };
    }
    return cached.set;
  };
}
