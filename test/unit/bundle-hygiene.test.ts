/**
 * `import { z } from 'zod'` pulls all of zod's locales into a Lambda bundle (~350 KB more than
 * `import * as z from 'zod'`, measured by `npm run bench`, row 7). Keep every shipped module on
 * the namespace import. And collect, the function on the request path, stays free of
 * libphonenumber's metadata (118 KB): it checks identifiers with `core/identifiers.ts`.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { esbuildOptions, handlerNames, MAX_BUNDLE_BYTES } from '../../lib/bundling';

const root = join(__dirname, '../..');

const temp: string[] = [];
/** An output file in a fresh temporary folder, removed after the file's tests. */
function outFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'scherp-bundle-'));
  temp.push(dir);
  return join(dir, 'index.js');
}
afterAll(() => {
  for (const d of temp) rmSync(d, { recursive: true, force: true });
});

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

it('shipped code imports zod as a namespace', () => {
  const offenders = ['core', 'app', 'adapters', 'lambdas']
    .flatMap((d) => tsFiles(join(root, d)))
    .filter((f) => /import\s*\{[^}]*\bz\b[^}]*\}\s*from\s*'zod'/.test(readFileSync(f, 'utf8')));
  expect(offenders).toEqual([]);
});

it('the collect bundle leaves out libphonenumber', async () => {
  const out = outFile();
  const r = await build({ ...esbuildOptions(join(root, 'lambdas/collect/index.ts'), out), metafile: true });
  const bundled = Object.keys(r.metafile.outputs[Object.keys(r.metafile.outputs).find((k) => k.endsWith('index.js'))!]!.inputs);
  expect(bundled.some((f) => f.includes('core/ingest'))).toBe(true);
  expect(bundled.filter((f) => f.includes('libphonenumber'))).toEqual([]);
});

it('the collect bundle, on the request path, is at most 200 KB (issue 15; the others carry Powertools and zod: docs/benchmarks.md)', async () => {
  const out = outFile();
  await build(esbuildOptions(join(root, 'lambdas/collect/index.ts'), out));
  expect(statSync(out).size).toBeLessThanOrEqual(200 * 1024);
});

/**
 * The bundles still over 200 KB (issue 15), and why: classic zod (~95 KB in every bundle that
 * parses anything) and libphonenumber with its compressed metadata (~59 KB in every function that
 * normalises identifiers) leave too little room beside Powertools (~33 KB) and the function's own
 * code. What would close it is measured in docs/architecture.md ("Bundles"): zod/mini (~23 KB).
 * The list may only shrink: a bundle that drops under the limit must leave it, and no other
 * bundle may go over.
 */
const OVER_THE_LIMIT = ['context', 'evaluate', 'fileImport', 'identity', 'import', 'jobs', 'profile', 'rules', 'stitch'];

it('every Lambda bundle is at most 200 KB, except the listed ones still over it (issue 15)', async () => {
  const sizes = await Promise.all(
    handlerNames(root).map(async (name) => {
      const r = await build({ ...esbuildOptions(join(root, 'lambdas', name, 'index.ts'), join(tmpdir(), `${name}.js`)), write: false });
      const js = r.outputFiles.find((f) => f.path.endsWith('.js'))!;
      return { name, over: js.contents.length > MAX_BUNDLE_BYTES };
    }),
  );
  expect(sizes.length).toBeGreaterThanOrEqual(13);
  expect(sizes.filter((s) => s.over).map((s) => s.name)).toEqual(OVER_THE_LIMIT);
});

it('phone metadata is bundled compressed (core/phone.ts), never as the 82 KB JSON', async () => {
  const out = outFile();
  const r = await build({ ...esbuildOptions(join(root, 'lambdas/stitch/index.ts'), out), metafile: true });
  const bundled = Object.keys(r.metafile.inputs);
  expect(bundled.some((f) => f.includes('core/phone-metadata'))).toBe(true);
  expect(bundled.filter((f) => /libphonenumber-js\/metadata\.\w+\.json/.test(f))).toEqual([]);
});
