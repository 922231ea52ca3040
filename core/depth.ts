/**
 * How deep a parsed JSON value nests, found without recursion, so a hostile document (a rule
 * condition nested 1,500 deep) is refused with the path where it went too deep instead of
 * overflowing the stack in a later recursive step (validation, evaluation, JSON.stringify). Pure.
 */
import { formatPath } from './events';

/**
 * The path (`condition.not.not.all[0]`) of the first object or array that lies deeper than
 * `maxDepth` levels below `value` (the value itself is level 0), or undefined when none does.
 */
export function tooDeepAt(value: unknown, maxDepth: number, prefix = ''): string | undefined {
  const stack: { v: unknown; path: (string | number)[] }[] = [{ v: value, path: [] }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (path.length > maxDepth) return formatPath(path, prefix);
    if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: [...path, i] });
    else for (const k of Object.keys(v).reverse()) stack.push({ v: (v as Record<string, unknown>)[k], path: [...path, k] });
  }
  return undefined;
}
