/**
 * Real pages for the browser tests: Debian's Chromium driven by playwright-core (npm cannot
 * download browsers here), and a static server that gives the page an origin of its own, so
 * every call to the API is cross-origin as on a customer's site.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';

/** Where Chromium is: `CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Flags for a closed network: without the background-networking ones Chromium keeps trying
 * hosts it cannot reach; `--no-sandbox` because tests run as root here.
 */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
];

/** Starts headless Chromium; a clear error when it is not installed (`apt-get install chromium`). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS });
}

export interface StaticFile {
  readonly contentType: string;
  readonly body: string | Buffer;
}

export interface StaticSite {
  /** `http://localhost:<port>`: another origin than the API's `http://127.0.0.1:<port>`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `files` (path → content, e.g. `/index.html`) on a free port of `localhost`. The API
 * runs on `127.0.0.1`, so a page from here is on another origin and the browser applies CORS.
 */
export async function serveStatic(files: Readonly<Record<string, StaticFile>>): Promise<StaticSite> {
  const byPath = new Map(Object.entries(files));
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const file = byPath.get(path === '/' ? '/index.html' : path);
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': file.contentType, 'cache-control': 'no-store' });
    res.end(file.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
