/**
 * How every Lambda handler is bundled, defined once: the CDK construct (`lib/scherp-function.ts`)
 * and the bundle-size benchmark (`bench/`) both read these options, so the benchmark measures
 * exactly what is deployed.
 *
 * The Node.js 22 Lambda runtime ships the AWS SDK for JavaScript v3, so `@aws-sdk/*` stays
 * external: bundling it tripled the bundles (~600 KB each) and their load time for no gain.
 * Everything else (zod, Powertools, our code) is bundled, minified and tree-shaken, preferring
 * packages' ES module builds (`module` before `main`) because those tree-shake.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildOptions } from 'esbuild';

export const LAMBDA_BUNDLING = {
  target: 'node22',
  format: 'cjs',
  minify: true,
  sourceMap: true,
  /** Stack traces need file names and lines, not the sources: keeps the map small. */
  sourcesContent: false,
  externalModules: ['@aws-sdk/*'],
  mainFields: ['module', 'main'],
} as const;

/** Every Lambda handler: a folder of `lambdas/` (under `root`) with an `index.ts`, sorted. */
export function handlerNames(root = join(__dirname, '..')): string[] {
  const dir = join(root, 'lambdas');
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'index.ts')))
    .map((e) => e.name)
    .sort();
}

/** Most bytes a handler's bundle (`index.js`, without its source map) may have (issue 15; `test/unit/bundle-hygiene.test.ts`). */
export const MAX_BUNDLE_BYTES = 200 * 1024;

/** The same options as esbuild's API takes them (what `NodejsFunction` passes to esbuild). */
export function esbuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: LAMBDA_BUNDLING.target,
    format: LAMBDA_BUNDLING.format,
    minify: LAMBDA_BUNDLING.minify,
    sourcemap: LAMBDA_BUNDLING.sourceMap,
    sourcesContent: LAMBDA_BUNDLING.sourcesContent,
    external: [...LAMBDA_BUNDLING.externalModules],
    mainFields: [...LAMBDA_BUNDLING.mainFields],
    logLevel: 'silent',
  };
}

/** The console's sources (`console/`: `index.html`, `src/`). */
export const CONSOLE_DIR = join(__dirname, '..', 'console');

/**
 * How the console is bundled, for `npm start` (in memory), the package build and the stack's
 * `console` function (at synth from the sources): `app.js` and `app.css`, next to `index.html`.
 */
export function esbuildConsoleOptions(): BuildOptions {
  return {
    entryPoints: { app: join(CONSOLE_DIR, 'src', 'main.tsx') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'silent',
    loader: { '.css': 'css' },
  };
}
