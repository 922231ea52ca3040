/**
 * The console (`console/`): a Preact app bundled by esbuild, served by the local server under
 * `/console/`. Every path below `/console/` that is not an asset answers with the app's page,
 * so shareable URLs (`/console/profiles/email:ada@example.com`) open the right page. Nothing
 * comes from a CDN; the Content-Security-Policy allows scripts, styles and calls to this origin
 * only (no inline script).
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';

const CONSOLE_DIR = join(__dirname, '..', 'console');

/** Where the console lives under the API's origin. */
export const CONSOLE_PATH = '/console';

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export interface ConsoleFile {
  readonly contentType: string;
  readonly body: Buffer;
}

/** The built console: asset name (`app.js`, `app.css`, `index.html`) → file. */
export type ConsoleBundle = ReadonlyMap<string, ConsoleFile>;

export interface StaticResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer | string;
}

function esbuildConsoleOptions(): BuildOptions {
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

/** Bundles the console in memory (at `npm start`; a few hundred ms). */
export async function buildConsole(): Promise<ConsoleBundle> {
  const out = await build({ ...esbuildConsoleOptions(), write: false, outdir: '/console-out' });
  const files = new Map<string, ConsoleFile>();
  for (const f of out.outputFiles) {
    const name = f.path.slice(f.path.lastIndexOf('/') + 1);
    files.set(name, {
      contentType: name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8',
      body: Buffer.from(f.contents),
    });
  }
  files.set('index.html', { contentType: 'text/html; charset=utf-8', body: readFileSync(join(CONSOLE_DIR, 'index.html')) });
  return files;
}

/** Writes the console bundle to `outdir` (the package build: `dist/console/`). */
export async function writeConsole(outdir: string): Promise<void> {
  await build({ ...esbuildConsoleOptions(), outdir });
  copyFileSync(join(CONSOLE_DIR, 'index.html'), join(outdir, 'index.html'));
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

/** Is `path` the console's (`/console`, `/console/…`)? */
export function isConsolePath(path: string): boolean {
  return path === CONSOLE_PATH || path.startsWith(`${CONSOLE_PATH}/`);
}

const SECURITY_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** The answer to `method path` under `/console`: an asset, else the app's page. */
export function serveConsole(bundle: ConsoleBundle, method: string, path: string): StaticResponse {
  if (method !== 'GET' && method !== 'HEAD') {
    return {
      status: 405,
      headers: { ...SECURITY_HEADERS, allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' },
      body: 'method not allowed',
    };
  }
  if (path === CONSOLE_PATH) return { status: 308, headers: { ...SECURITY_HEADERS, location: `${CONSOLE_PATH}/` }, body: '' };
  const assetMatch = /^\/console\/assets\/([a-z]+\.(?:js|css))$/.exec(path);
  if (assetMatch) {
    const file = bundle.get(assetMatch[1]!);
    if (!file) return { status: 404, headers: { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' }, body: 'not found' };
    return {
      status: 200,
      headers: { ...SECURITY_HEADERS, 'content-type': file.contentType, 'cache-control': 'no-cache' },
      body: method === 'HEAD' ? '' : file.body,
    };
  }
  const page = bundle.get('index.html')!;
  return {
    status: 200,
    headers: { ...SECURITY_HEADERS, 'content-type': page.contentType, 'cache-control': 'no-store' },
    body: method === 'HEAD' ? '' : page.body,
  };
}
