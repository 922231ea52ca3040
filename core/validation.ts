/**
 * One formatter for every zod error a user sees (events, rules and audiences, configuration,
 * sources, imports, dry runs and backtests): each issue names the field's path and, where the
 * schema knows them, the allowed values. zod reports a union that matched no branch as one
 * `Invalid input` at the union's path; here the branch the input was meant for (the one whose
 * shape it has) is followed down to the real fault, so an unknown rule operator is reported as
 * `condition.all[0].op: must be one of eq, neq, …`. Pure.
 */
import type * as z from 'zod';
import { ValidationError } from './errors';

/** A problem with one field of the input: the path names the field, as `batch[3].userId`. */
export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

export function formatPath(path: ReadonlyArray<PropertyKey>, prefix = ''): string {
  let out = prefix;
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/** What zod says when a union has no message of its own. */
const GENERIC_UNION_MESSAGE = 'Invalid input';

function listValues(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v)))).join(', ');
}

/** `must be one of a, b` (or `must be a` for a single value). */
export function allowedValues(values: readonly unknown[]): string {
  return values.length === 1 ? `must be ${listValues(values)}` : `must be one of ${listValues(values)}`;
}

function isMissing(i: Issue): boolean {
  return i.code === 'invalid_type' && / received undefined$/.test(i.message);
}

/**
 * How badly a union branch's issues say "this input is not of my shape": unknown keys or a
 * wrong type at the branch's root, a missing key, a different literal in a key (a
 * discriminator). 0 means the input has the branch's shape and its issues are real faults.
 */
function shapeMisses(issues: readonly Issue[]): number {
  let n = 0;
  for (const i of issues) {
    if (i.path.length === 0 && (i.code === 'unrecognized_keys' || i.code === 'invalid_type' || i.code === 'invalid_value')) n++;
    else if (i.path.length === 1 && isMissing(i)) n++;
    else if (i.path.length === 1 && i.code === 'invalid_value' && i.values.length === 1) n++;
    else if (i.path.length === 0 && i.code === 'invalid_union' && i.errors.length > 0) n += Math.min(...i.errors.map(shapeMisses));
  }
  return n;
}

/** An issue before its path is written out. */
interface Found {
  readonly path: Path;
  readonly message: string;
}

function unionIssues(i: Extract<Issue, { code: 'invalid_union' }>, at: Path): Found[] {
  // A discriminated union whose discriminator matched no option.
  if (i.errors.length === 0) {
    const options = (i as { options?: unknown[] }).options;
    return [{ path: at, message: options && options.length > 0 ? allowedValues(options) : i.message }];
  }
  const ranked = i.errors
    .map((branch, index) => ({ branch, index, misses: shapeMisses(branch) }))
    .sort((a, b) => a.misses - b.misses || a.branch.length - b.branch.length || a.index - b.index);
  const best = ranked[0]!;
  if (best.misses === 0) return best.branch.flatMap((b) => issuesOf(b, at));
  // No branch has the input's shape: say what the alternatives are.
  if (i.message !== GENERIC_UNION_MESSAGE) return [{ path: at, message: i.message }];
  const literalKeys = i.errors.map((branch) =>
    branch.find((b) => b.path.length === 1 && b.code === 'invalid_value' && b.values.length === 1),
  );
  const key = literalKeys[0]?.path[0];
  if (key !== undefined && literalKeys.every((l) => l !== undefined && l.path[0] === key)) {
    const values = [...new Set(literalKeys.flatMap((l) => (l as { values: unknown[] }).values))];
    return [{ path: [...at, key], message: allowedValues(values) }];
  }
  const alternatives = i.errors.map((branch) => {
    const root = branch.find((b) => b.path.length === 0 && (b.code === 'invalid_type' || b.code === 'invalid_value'));
    if (root?.code === 'invalid_type') return article(root.expected);
    if (root?.code === 'invalid_value') return listValues(root.values);
    return undefined;
  });
  if (alternatives.every((a) => a !== undefined)) {
    const received = i.errors
      .flat()
      .map((b) => / received (\w+)$/.exec(b.message)?.[1])
      .find((r) => r !== undefined);
    return [{ path: at, message: `must be ${[...new Set(alternatives)].join(' or ')}${received ? ` (received ${received})` : ''}` }];
  }
  return best.branch.flatMap((b) => issuesOf(b, at));
}

/** zod's names of types, as a user reads them. */
const TYPE_NAMES: ReadonlyMap<string, string> = new Map([
  ['int', 'integer'],
  ['record', 'object'],
]);

function article(type: string): string {
  const name = TYPE_NAMES.get(type) ?? type;
  return /^[aeiou]/.test(name) ? `an ${name}` : `a ${name}`;
}

function issuesOf(i: Issue, base: Path): Found[] {
  const at = [...base, ...i.path];
  switch (i.code) {
    case 'invalid_union':
      return unionIssues(i, at);
    case 'invalid_value':
      return [{ path: at, message: allowedValues(i.values) }];
    case 'unrecognized_keys':
      return i.keys.map((k) => ({ path: [...at, k], message: 'is not a known field' }));
    case 'invalid_key':
      return i.issues.flatMap((k) => issuesOf(k as Issue, at)).map((f) => ({ ...f, message: `(the key) ${f.message}` }));
    case 'invalid_element':
      return i.issues.flatMap((k) => issuesOf(k as Issue, at));
    case 'invalid_type': {
      if (isMissing(i)) return [{ path: at, message: `is required (${article(i.expected)})` }];
      const received = / received (\w+)$/.exec(i.message)?.[1];
      return [{ path: at, message: `must be ${article(i.expected)}${received ? ` (received ${received})` : ''}` }];
    }
    default:
      return [{ path: at, message: i.message }];
  }
}

/** Every issue of a zod error, with its path (under `prefix`) and a message naming what is allowed. */
export function zodIssues(error: z.ZodError, prefix = ''): FieldIssue[] {
  const out: FieldIssue[] = [];
  const seen = new Set<string>();
  for (const i of error.issues) {
    for (const f of issuesOf(i, [])) {
      const path = formatPath(f.path, prefix);
      const key = `${path}\u0000${f.message}`;
      if (!seen.has(key)) out.push({ path, message: f.message }), seen.add(key);
    }
  }
  return out;
}

/** `a.b must …; c must …`: the issues as one line, for an error message. */
export function issuesText(issues: readonly FieldIssue[]): string {
  return issues.map((i) => `${i.path} ${i.message}`).join('; ');
}

/**
 * Parses `input` with `schema` or throws a {@link ValidationError} (400) whose message is
 * `invalid <what>: <path> <message>; …` and whose issues name every fault, under `prefix`.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string, prefix = ''): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues = zodIssues(r.error, prefix);
  throw new ValidationError(`invalid ${what}: ${issuesText(issues)}`, issues);
}
