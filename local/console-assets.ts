/**
 * The console (`console/`): a Preact app bundled by esbuild (options in `lib/bundling.ts`),
 * served by the local server under `/console/` with the same answers as the cloud's `console`
 * function (`lambdas/console/serve.ts`).
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { CONSOLE_DIR, esbuildConsoleOptions } from '../lib/bundling';
import { CONSOLE_PAGE, type ConsoleBundle, type ConsoleFile, consoleContentType } from '../lambdas/console/serve';

export {
  CONSOLE_CSP,
  CONSOLE_PATH,
  type ConsoleBundle,
  type ConsoleFile,
  isConsolePath,
  serveConsole,
  type StaticResponse,
} from '../lambdas/console/serve';

/** Bundles the console in memory (at `npm start`; a few hundred ms). */
export async function buildConsole(): Promise<ConsoleBundle> {
  const out = await build({ ...esbuildConsoleOptions(), write: false, outdir: '/console-out' });
  const files = new Map<string, ConsoleFile>();
  for (const f of out.outputFiles) {
    const name = f.path.slice(f.path.lastIndexOf('/') + 1);
    files.set(name, { contentType: consoleContentType(name)!, body: Buffer.from(f.contents) });
  }
  files.set(CONSOLE_PAGE, { contentType: consoleContentType(CONSOLE_PAGE)!, body: readFileSync(join(CONSOLE_DIR, CONSOLE_PAGE)) });
  return files;
}

/** Writes the console bundle to `outdir` (the package build: `dist/console/`). */
export async function writeConsole(outdir: string): Promise<void> {
  await build({ ...esbuildConsoleOptions(), outdir });
  copyFileSync(join(CONSOLE_DIR, CONSOLE_PAGE), join(outdir, CONSOLE_PAGE));
}

let cached: Promise<ConsoleBundle> | undefined;

/** One build per process, shared by every runtime it starts. */
export function consoleBundle(): Promise<ConsoleBundle> {
  cached ??= buildConsole().catch((err: unknown) => {
    cached = undefined;
    throw err;
  });
  return cached;
}
