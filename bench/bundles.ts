/**
 * Bundle size and module-initialisation time (a cold-start proxy) of every Lambda (each folder of
 * `lambdas/` with an `index.ts`): bundled with exactly the deployed esbuild options
 * (lib/bundling.ts), then `require()`d in fresh node processes with the Lambda's NODE_OPTIONS
 * (`--enable-source-maps`), the median of 5. Alone:
 *
 *   node --import tsx bench/bundles.ts
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { esbuildOptions, handlerNames, MAX_BUNDLE_BYTES } from '../lib/bundling';

/** Every handler, as the package build bundles them. */
export const FUNCTIONS: readonly string[] = handlerNames(join(__dirname, '..'));

export interface BundleResult {
  readonly fn: string;
  readonly bytes: number;
  readonly mapBytes: number;
  /** Median of `runs` fresh-process require() times, ms. */
  readonly initMs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median time to `require()` the given modules in fresh node processes started in `cwd`, ms. */
export function requireTime(modules: readonly string[], cwd: string, runs = 5): number {
  const script = `const t=process.hrtime.bigint();${modules.map((m) => `require(${JSON.stringify(m)});`).join('')}process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, ['--enable-source-maps', '-e', script], {
      cwd,
      encoding: 'utf8',
      timeout: 30_000,
      env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', POWERTOOLS_METRICS_NAMESPACE: 'Scherp' },
    });
    if (r.status !== 0) throw new Error(`require() of ${modules.join(', ')} failed: ${r.stderr}`);
    times.push(Number(r.stdout));
  }
  return median(times);
}

export async function measureBundles(root: string, outDir: string, runs = 5): Promise<BundleResult[]> {
  const out: BundleResult[] = [];
  for (const fn of FUNCTIONS) {
    const dir = join(outDir, fn);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'index.js');
    await build(esbuildOptions(join(root, 'lambdas', fn, 'index.ts'), file));
    out.push({ fn, bytes: statSync(file).size, mapBytes: statSync(`${file}.map`).size, initMs: requireTime([file], root, runs) });
  }
  return out;
}

if (require.main === module) {
  const root = join(__dirname, '..');
  measureBundles(root, join(root, 'bench', 'out')).then(
    (rows) => {
      for (const r of rows)
        process.stdout.write(
          `${r.fn.padEnd(12)} ${(r.bytes / 1024).toFixed(1).padStart(6)} KB  init ${r.initMs.toFixed(0).padStart(4)} ms${r.bytes > MAX_BUNDLE_BYTES ? '  over 200 KB' : ''}\n`,
        );
    },
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack}\n`);
      process.exit(1);
    },
  );
}
