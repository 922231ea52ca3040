/**
 * Paths into the evaluation context, compiled once: `event.properties.revenue`,
 * `event.properties.products[].category` (every element's category), and
 * `match.previous.properties.products[category=baby ointment]` (the elements whose field equals
 * a value). Once a path fans out over an array, later steps apply to every element. Pure.
 */

/** One path segment: a property name, optionally followed by `[]` or `[field=value]`. */
const SEGMENT = String.raw`[A-Za-z0-9_$ -]+(?:\[\]|\[[A-Za-z0-9_$ -]+=[^\]]*\])?`;
export const PATH_PATTERN = new RegExp(String.raw`^(event|profile|match)(\.${SEGMENT})*$`);

interface Step {
  readonly key: string;
  readonly fan?: { readonly field?: string; readonly equals?: string };
}

const compiled = new Map<string, Step[]>();

function compile(path: string): Step[] {
  let steps = compiled.get(path);
  if (steps) return steps;
  steps = path.split(/\.(?![^[]*\])/).map((seg): Step => {
    const open = seg.indexOf('[');
    if (open === -1) return { key: seg };
    const inner = seg.slice(open + 1, -1);
    if (inner === '') return { key: seg.slice(0, open), fan: {} };
    const eq = inner.indexOf('=');
    return { key: seg.slice(0, open), fan: { field: inner.slice(0, eq), equals: inner.slice(eq + 1) } };
  });
  compiled.set(path, steps);
  return steps;
}

function own(v: unknown, key: string): unknown {
  if (v === null || typeof v !== 'object' || !Object.hasOwn(v, key)) return undefined;
  return (v as Record<string, unknown>)[key];
}

function fanOut(v: unknown, fan: NonNullable<Step['fan']>): unknown[] {
  if (!Array.isArray(v)) return [];
  if (fan.field === undefined) return v;
  return v.filter((el) => {
    const f = own(el, fan.field!);
    return f !== undefined && f !== null && typeof f !== 'object' && String(f) === fan.equals;
  });
}

/**
 * Reads a path, own properties only (no prototype walking). A path with `[]` or `[f=v]` yields
 * an array (possibly empty); a plain path yields the value or undefined.
 */
export function readPath(root: unknown, path: string): unknown {
  let cur: unknown = root;
  let many: unknown[] | undefined;
  for (const step of compile(path)) {
    if (many) {
      const next: unknown[] = [];
      for (const el of many) {
        const v = own(el, step.key);
        if (step.fan) next.push(...fanOut(v, step.fan));
        else if (v !== undefined) next.push(v);
      }
      many = next;
    } else {
      cur = own(cur, step.key);
      if (step.fan) many = fanOut(cur, step.fan);
      else if (cur === undefined) return undefined;
    }
  }
  return many ?? cur;
}
