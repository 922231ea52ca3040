/**
 * How the console is served, for the local server (`local/server.ts`, `npm start`) and the
 * cloud's `console` function (`lambdas/console/index.ts`) alike: pure, from the built files to
 * the answer. Every path below `/console/` that is not an asset answers with the app's page, so
 * shareable URLs (`/console/profiles/email:ada@example.com`) open the right page. The
 * Content-Security-Policy allows scripts, styles and calls to this origin only (no inline
 * script, nothing from a CDN).
 */

/** Where the console lives under the API's origin. */
export const CONSOLE_PATH = '/console';

/** Folder of the built console next to the `console` function's bundle. */
export const CONSOLE_ASSETS_FOLDER = 'console';

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

/** The built console: file name (`app.js`, `app.css`, `index.html`) → file. */
export type ConsoleBundle = ReadonlyMap<string, ConsoleFile>;

export interface StaticResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer | string;
}

/** The page every non-asset path answers with. */
export const CONSOLE_PAGE = 'index.html';

const CONTENT_TYPES: ReadonlyMap<string, string> = new Map([
  ['.html', 'text/html; charset=utf-8'],
  ['.js', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
]);

/** Content type of a built file by its extension; undefined for a file the console does not serve. */
export function consoleContentType(name: string): string | undefined {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? undefined : CONTENT_TYPES.get(name.slice(dot));
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
    // Not hashed names: revalidate, so a deployment takes effect at once.
    return {
      status: 200,
      headers: { ...SECURITY_HEADERS, 'content-type': file.contentType, 'cache-control': 'no-cache' },
      body: method === 'HEAD' ? '' : file.body,
    };
  }
  const page = bundle.get(CONSOLE_PAGE)!;
  return {
    status: 200,
    headers: { ...SECURITY_HEADERS, 'content-type': page.contentType, 'cache-control': 'no-store' },
    body: method === 'HEAD' ? '' : page.body,
  };
}
