/**
 * The README's runnable snippets (see test/e2e/readme.test.ts for the marker).
 *
 * A snippet is the fenced block right after a line `<!-- test -->` or `<!-- test: OPTIONS -->`
 * (an HTML comment: GitHub does not render it). OPTIONS, comma-separated:
 *   browser     a `js` block run as a module in headless Chromium, on a page of another origin
 *               than the API; imports (`@segment/analytics-next`) are bundled with esbuild; the
 *               page defines `API` (the shell's `$URL`) and `WRITE_KEY` (`$WRITE`) and has a
 *               hidden `#banner` element
 *   node        a `js` block run as an ES module with node in the project folder (the shell's
 *               variables are its environment)
 *   eventually  retried for up to 30 s until it passes: for reads that wait on the
 *               asynchronous pipeline (only on blocks without side effects)
 *   output      a plain block whose lines must all appear, in order, in `npm start`'s output
 * Blocks without an option are `sh`: run with bash in the project folder, in order, each seeing
 * the variables the earlier ones set; a block fails when a command fails (`set -eo pipefail`).
 * Comment lines directly after a command (no blank line between) are its documented output:
 * they must appear, in order, in the block's stdout; `…` stands for anything.
 */
import { readFileSync } from 'node:fs';

export type SnippetKind = 'sh' | 'browser' | 'node' | 'output';

export interface Snippet {
  /** 1-based line of the fence in the README. */
  readonly line: number;
  readonly kind: SnippetKind;
  readonly eventually: boolean;
  readonly code: string;
  /** `sh`: the documented outputs, in order; `output`: the lines to find. */
  readonly expected: readonly string[];
}

const MARKER = /^\s*<!--\s*test(?::\s*(.*?))?\s*-->\s*$/;
const FENCE = /^(\s*)```(\w*)\s*$/;
const OPTIONS = new Set(['browser', 'node', 'eventually', 'output']);

/** Comment lines directly after a command line, one string per run of them. */
export function documentedOutputs(code: string): string[] {
  const outputs: string[] = [];
  let afterCommand = false;
  let current: string[] | undefined;
  for (const line of code.split('\n')) {
    const comment = /^#( |$)(.*)$/.exec(line.trimEnd());
    if (comment && (afterCommand || current)) {
      (current ??= []).push(comment[2] ?? '');
      afterCommand = false;
      continue;
    }
    if (current) outputs.push(current.join('\n'));
    current = undefined;
    afterCommand = !comment && line.trim() !== '';
  }
  if (current) outputs.push(current.join('\n'));
  return outputs;
}

/** A pattern for documented text: literal, with `…` standing for anything (also across lines). */
export function pattern(parts: readonly string[]): RegExp {
  const one = (t: string) =>
    t
      .split('…')
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[\\s\\S]*?');
  return new RegExp(parts.map(one).join('[\\s\\S]*?'));
}

export function parseSnippets(markdown: string): Snippet[] {
  const lines = markdown.split('\n');
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = MARKER.exec(lines[i]!);
    if (!m) continue;
    const options = (m[1] ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    for (const o of options)
      if (!OPTIONS.has(o)) throw new Error(`README.md:${i + 1}: unknown test option "${o}" (known: ${[...OPTIONS].join(', ')})`);
    const fence = FENCE.exec(lines[i + 1] ?? '');
    if (!fence) throw new Error(`README.md:${i + 1}: a test marker must be directly followed by a fenced block`);
    const indent = fence[1]!.length;
    const lang = fence[2]!;
    const body: string[] = [];
    let j = i + 2;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++) body.push(lines[j]!.slice(indent));
    if (j >= lines.length) throw new Error(`README.md:${i + 2}: the fenced block never ends`);
    const code = body.join('\n');
    const kind: SnippetKind = options.includes('browser')
      ? 'browser'
      : options.includes('node')
        ? 'node'
        : options.includes('output')
          ? 'output'
          : 'sh';
    const wanted: Record<SnippetKind, string[]> = {
      sh: ['sh', 'bash', 'shell'],
      browser: ['js', 'javascript'],
      node: ['js', 'javascript'],
      output: ['', 'text'],
    };
    if (!wanted[kind].includes(lang))
      throw new Error(`README.md:${i + 2}: a ${kind} snippet must be a \`\`\`${wanted[kind][0]} block, not \`\`\`${lang}`);
    snippets.push({
      line: i + 2,
      kind,
      eventually: options.includes('eventually'),
      code,
      expected: kind === 'sh' ? documentedOutputs(code) : kind === 'output' ? body.filter((l) => l.trim() !== '') : [],
    });
    i = j;
  }
  return snippets;
}

export function readmeSnippets(file: string): Snippet[] {
  return parseSnippets(readFileSync(file, 'utf8'));
}
