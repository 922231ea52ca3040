/**
 * `npm run build` (and so `npm pack`, through `prepack`): the installable package in `dist/`.
 *
 * - `dist/lib/`, `dist/core/`, … : the construct compiled to CommonJS with `.d.ts`
 *   (`tsconfig.build.json`: `lib/index.ts`, `core/config.ts` and what they import).
 * - `dist/bundles/<name>/index.js` (+ `.map`): every handler (`lambdas/<name>/index.ts`) bundled
 *   by esbuild with the deployed options (`lib/bundling.ts`). The compiled construct deploys these
 *   as they are (`functionCodeSource` in `lib/scherp-function.ts`), so a user's `cdk synth` runs
 *   neither esbuild nor Docker.
 * - `dist/bundles/console/console/`: the console (`console/`, Preact, bundled by esbuild:
 *   `index.html`, `app.js`, `app.css`) next to the `console` function that serves it in the cloud
 *   (`lambdas/console/`; `local/console-assets.ts` serves the same at `npm start`).
 * - `dist/rules/`: the example rules, where `DEFAULT_RULES_DIR` (`lib/rules.ts`, `../rules` from
 *   `dist/lib/`) finds them in the package.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { CONSOLE_ASSETS_FOLDER } from '../lambdas/console/serve';
import { esbuildOptions, handlerNames as lambdaHandlers } from '../lib/bundling';
import { writeConsole } from '../local/console-assets';

const root = join(__dirname, '..');
const dist = join(root, 'dist');

/** Every handler: a folder of `lambdas/` with an `index.ts` (`handlerNames` of lib/bundling.ts). */
export function handlerNames(): string[] {
  return lambdaHandlers(root);
}

async function main(): Promise<void> {
  rmSync(dist, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  if (tsc.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed (exit ${tsc.status})`);
  cpSync(join(root, 'rules'), join(dist, 'rules'), { recursive: true, filter: (src) => !src.includes('/.') });
  for (const name of handlerNames()) {
    await build(esbuildOptions(join(root, 'lambdas', name, 'index.ts'), join(dist, 'bundles', name, 'index.js')));
  }
  await writeConsole(join(dist, 'bundles', 'console', CONSOLE_ASSETS_FOLDER));
  console.error(`built dist/: the console, the construct and ${handlerNames().length} function bundles (${handlerNames().join(', ')})`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
