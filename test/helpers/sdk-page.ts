/**
 * A page for the browser SDK tests: the SDK bundled with esbuild (in memory) and served from
 * another origin than the API, every request the page makes recorded, including any to a third
 * host, so a test proves the SDK works offline against Scherp alone.
 */
import { build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Runtime } from '../../local/runtime';
import { launchChromium, serveStatic, type StaticSite } from './browser';
import { startTestRuntime } from './runtime';
import { eventually } from './dynamo';
import { apiClient } from './http';

/** Bundles `source` (an ES module that puts what the page needs on `window`) for the browser. */
export async function bundleForBrowser(source: string): Promise<string> {
  const out = await build({
    stdin: { contents: source, resolveDir: process.cwd(), sourcefile: 'page-entry.js', loader: 'js' },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  return out.outputFiles[0]!.text;
}

/** Serves a blank page that loads `script` as `/sdk.js`. */
export function serveSdkPage(script: string): Promise<StaticSite> {
  return serveStatic({
    '/index.html': {
      contentType: 'text/html',
      body: '<!doctype html><html><head><script src="/sdk.js"></script></head><body>shop</body></html>',
    },
    '/next.html': { contentType: 'text/html', body: '<!doctype html><html><body>next</body></html>' },
    '/sdk.js': { contentType: 'text/javascript', body: script },
  });
}

export interface SeenRequest {
  readonly method: string;
  /** The path and query, on the API's origin. */
  readonly path: string;
  readonly status: number;
  readonly body?: string;
}

export interface SdkPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Requests the page made to the API (preflights included), with their answers. */
  readonly api: SeenRequest[];
  /** Requests to any other host than the page's and the API's (a CDN, the SDK vendor). */
  readonly foreign: string[];
  /** Console errors of the page. */
  readonly errors: string[];
  close(): Promise<void>;
}

/** A fresh browser context (no cookies, no storage: a new visitor) on the page of `site`. */
export async function openSdkPage(browser: Browser, site: StaticSite, apiUrl: string): Promise<SdkPage> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const api: SeenRequest[] = [];
  const foreign: string[] = [];
  const errors: string[] = [];
  const apiOrigin = new URL(apiUrl).origin;
  // Recorded, not intercepted: Chromium drops keepalive requests sent while the page unloads
  // when Playwright routes them (and this network is closed anyway).
  context.on('request', (req) => {
    const url = new URL(req.url());
    if (url.origin !== apiOrigin && url.origin !== site.url) foreign.push(url.href);
  });
  page.on('response', async (res) => {
    const url = new URL(res.url());
    if (url.origin !== apiOrigin) return;
    const req = res.request();
    api.push({ method: req.method(), path: url.pathname + url.search, status: res.status(), body: req.postData() ?? undefined });
  });
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${site.url}/index.html`);
  return { page, context, api, foreign, errors, close: () => context.close() };
}

/**
 * The profile of `userId` and its timeline (oldest last), once the timeline holds `count` events
 * and the profile lists `anonymousId`: what an SDK test asserts on, read through the API.
 */
export async function storedVisit(rt: Runtime, userId: string, anonymousId: string, count: number) {
  const { call } = apiClient(() => rt);
  return eventually(async () => {
    // The timeline first: once it holds every event, the profile read next has them all applied.
    const t = await call('GET', `/v1/profiles/user_id:${userId}/events?limit=100`, rt.keys.read);
    if (t.status !== 200 || t.body.events.length < count) return undefined;
    const p = await call('GET', `/v1/profiles/user_id:${userId}`, rt.keys.read);
    if (p.status !== 200 || !p.body.identifiers.includes(`anonymous_id:${anonymousId}`)) return undefined;
    return {
      profile: p.body as Record<string, any>,
      events: t.body.events.map((e: { event: Record<string, any> }) => e.event) as Record<string, any>[],
    };
  }, 20_000);
}

/**
 * One test file's SDK set-up: a runtime with fixed keys, Chromium, and the SDK (`source`, for
 * {@link bundleForBrowser}) served on another origin; started in `beforeAll`, stopped in `afterAll`.
 */
export function useSdkHarness(name: string, keys: { write: string; read: string; admin: string }, source: string) {
  let rt: Runtime | undefined;
  let browser: Browser | undefined;
  let site: StaticSite | undefined;
  beforeAll(async () => {
    const [runtime, script, chromium] = await Promise.all([startTestRuntime(name, { keys }), bundleForBrowser(source), launchChromium()]);
    rt = runtime;
    browser = chromium;
    site = await serveSdkPage(script);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await rt?.stop();
  });
  return {
    get rt(): Runtime {
      return rt!;
    },
    get site(): StaticSite {
      return site!;
    },
    /** A new visitor's page (see {@link openSdkPage}). */
    open: () => openSdkPage(browser!, site!, rt!.url),
  };
}
