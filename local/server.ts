/**
 * The local HTTP endpoint: turns each request into the API Gateway (HTTP API, payload 2.0)
 * event the cloud would send, and calls the same handler. Faithful where the cloud differs from
 * a plain Node server: path parameters arrive decoded; a body is text only for the content types
 * HTTP APIs pass as text (else base64, whatever the `Content-Encoding`); a body over 10 MB is a
 * 413 before it is read (by `Content-Length`) or as soon as it passes the limit; an event over
 * Lambda's 6 MB synchronous payload is a 413 `Request Too Long` without invoking the handler.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { API_ROUTES, CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS, matchPath, type ApiFunction, type ApiRoute } from '../lambdas/routes';
import { decodePathSegment, errorResponse } from '../lambdas/shared/http';
import { HTTP_API_MAX_BODY_BYTES, httpApiPassesAsText, LAMBDA_SYNC_PAYLOAD_BYTES } from '../lambdas/shared/aws-limits';
import { isConsolePath, serveConsole, type ConsoleBundle } from './console-assets';

export type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** The largest body the local endpoint reads by default: API Gateway's own limit, 10 MB. */
export const DEFAULT_MAX_BODY_BYTES = HTTP_API_MAX_BODY_BYTES;

/** A request (headers and body) must be complete within this long, as API Gateway's 30 s. */
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface ServerOptions {
  /** Bodies over this many bytes (as received) get a 413 before any handler runs. @default 10 MB */
  readonly maxBodyBytes?: number;
  /** Events (as JSON) over this many bytes are not handed to the handler: 413. @default 6 MB (Lambda) */
  readonly maxEventBytes?: number;
  /** A request not received in full within this long is answered 408 and closed. @default 30 s */
  readonly requestTimeoutMs?: number;
  /** Origins allowed by CORS, like the construct prop `corsAllowedOrigins`. @default ['*'] */
  readonly corsAllowedOrigins?: readonly string[];
  /** The console to serve under `/console/` (`local/console-assets.ts`); none: not served. */
  readonly console?: ConsoleBundle;
}

const CORS = {
  'access-control-allow-methods': CORS_ALLOW_METHODS.join(','),
  'access-control-allow-headers': CORS_ALLOW_HEADERS.map((h) => h.toLowerCase()).join(','),
  'access-control-max-age': '600',
};

/** CORS headers for a request from `origin`: none when the origin is not allowed. */
export function corsHeaders(origin: string | undefined, allowed: readonly string[]): Record<string, string> {
  if (allowed.includes('*')) return { ...CORS, 'access-control-allow-origin': '*' };
  if (origin && allowed.includes(origin)) return { ...CORS, 'access-control-allow-origin': origin, vary: 'Origin' };
  return { vary: 'Origin' };
}

/** {@link corsHeaders} for the allowed origins, each answer built once (read-only, copied into every response). */
function corsTable(allowed: readonly string[]): (origin: string | undefined) => Readonly<Record<string, string>> {
  const none = corsHeaders(undefined, allowed);
  if (allowed.includes('*')) return () => none;
  const byOrigin = new Map(allowed.map((o) => [o, corsHeaders(o, allowed)] as const));
  return (origin) => (origin ? byOrigin.get(origin) : undefined) ?? none;
}

/** Writes one whole response: the CORS headers, the given ones, and (as API Gateway) the length. */
function writeResponse(
  res: ServerResponse,
  cors: Readonly<Record<string, string>>,
  status: number,
  headers: Readonly<Record<string, string | number | boolean>> | undefined,
  body: string | Buffer,
): void {
  const out: Record<string, string> = {};
  for (const k of Object.keys(cors)) out[k] = cors[k]!;
  if (headers) for (const k of Object.keys(headers)) out[k] = String(headers[k]);
  // As API Gateway answers: with the length, not chunked (one write instead of several).
  if (status !== 204 && status !== 304) out['content-length'] ??= String(Buffer.byteLength(body));
  res.writeHead(status, out);
  res.end(body);
}

/** The parts of a request target the event is built from: what `new URL(target, 'http://local')` gives. */
export type RequestTarget = Pick<URL, 'pathname' | 'search' | 'searchParams'>;

/** Targets `new URL` gives back unchanged as the pathname, with no query: letters, digits, `-_.~/`, no dot segment, no leading `//`. */
const PLAIN_TARGET = /^\/(?!\/)[A-Za-z0-9\-_.~/]*$/;
const NO_SEARCH_PARAMS = new URLSearchParams();

/** The request target parsed as `new URL` does, without one for the plain paths SDKs post to. */
export function requestTarget(raw: string | undefined): RequestTarget {
  const target = raw ?? '/';
  if (PLAIN_TARGET.test(target) && !target.includes('/.')) return { pathname: target, search: '', searchParams: NO_SEARCH_PARAMS };
  return new URL(target, 'http://local');
}

/** `requestContext.time` changes once a second: formatted once per second. */
let clock = { second: Number.NaN, text: '' };
function utcString(now: number): string {
  const second = Math.floor(now / 1000);
  if (second !== clock.second) clock = { second, text: new Date(now).toUTCString() };
  return clock.text;
}

/** The body, or `too-large` as soon as more than `maxBytes` came (the rest is not read). */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // An inline listener (no per-request function naming under tsx); past the limit it ignores
    // what still comes, and the paused request sends no more.
    req.on('data', (c: Buffer) => {
      if (size > maxBytes) return;
      size += c.length;
      if (size <= maxBytes) return void chunks.push(c);
      req.pause();
      resolve('too-large');
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Path parameters as HTTP APIs hand them over: percent-decoded once. A malformed one
 * (`%E0%A4%A`) throws the ValidationError of `decodePathSegment`: a 400 naming the parameter.
 */
export function decodePathParameters(raw: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(raw)) out[k] = decodePathSegment(v, k);
  return out;
}

/** Characters of a header, query or path-parameter map's keys and values, plus their JSON punctuation. */
function entriesChars(map: Readonly<Record<string, string | undefined>> | undefined): number {
  let chars = 0;
  if (map) for (const k of Object.keys(map)) chars += k.length + (map[k]?.length ?? 0) + 8;
  return chars;
}

/**
 * Whether the event, as JSON, is certainly at most `maxBytes`: true when an upper bound on its
 * size is (JSON.stringify writes each UTF-16 unit of a string as at most 6 bytes, `\uXXXX`, and
 * the event's own structure and keys take far less than 4 KB), so only an event near the limit
 * is serialized to measure it exactly.
 */
export function eventWithin(event: APIGatewayProxyEventV2, maxBytes: number): boolean {
  let chars = (event.body?.length ?? 0) + event.rawPath.length + event.rawQueryString.length * 2 + event.routeKey.length * 2;
  chars += entriesChars(event.headers) + entriesChars(event.queryStringParameters) + entriesChars(event.pathParameters);
  chars += event.requestContext.domainName.length + event.requestContext.http.userAgent.length + event.requestContext.http.path.length;
  if (6 * chars + 4096 <= maxBytes) return true;
  return Buffer.byteLength(JSON.stringify(event), 'utf8') <= maxBytes;
}

export function toApiEvent(
  req: IncomingMessage,
  body: Buffer,
  routeKey: string,
  pathParameters: Record<string, string>,
  url: RequestTarget = new URL(req.url ?? '/', 'http://local'),
): APIGatewayProxyEventV2 {
  // Keyed by the names the client sent: no prototype, so a name no client sent (`constructor`) is no header.
  const headers: Record<string, string> = Object.create(null);
  const given = req.headers;
  for (const k of Object.keys(given)) {
    const v = given[k];
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  }
  // API Gateway tells the function the scheme the client used; locally it is plain HTTP.
  headers['x-forwarded-proto'] ??= 'http';
  const contentType = headers['content-type'];
  const text = contentType === 'application/json' || httpApiPassesAsText(contentType);
  const now = Date.now();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
    pathParameters: Object.keys(pathParameters).length > 0 ? pathParameters : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: utcString(now),
      timeEpoch: now,
    },
    body: body.length === 0 ? undefined : text ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !text,
  };
}

const JSON_TYPE = { 'content-type': 'application/json' } as const;
const NO_PARAMS: Record<string, string> = Object.freeze(Object.create(null));

// API Gateway's answer to a body over its limit; the connection is not read any further.
function tooLarge(req: IncomingMessage, res: ServerResponse, cors: Readonly<Record<string, string>>, maxBodyBytes: number): void {
  res.shouldKeepAlive = false;
  writeResponse(
    res,
    cors,
    413,
    { 'content-type': 'text/plain; charset=utf-8', connection: 'close' },
    `HTTP content length exceeded ${maxBodyBytes} bytes.`,
  );
  res.once('finish', () => req.destroy());
}

interface RouteMatch {
  readonly route: ApiRoute;
  readonly routeKey: string;
  /** The raw path parameters; undefined for a route without any. */
  readonly raw?: Record<string, string>;
}

/**
 * The first of {@link API_ROUTES} (in order) matching a method and path, as a loop over them
 * finds it: a path equal to a parameterless route that no earlier route matches is looked up at
 * once, every other path walks the list.
 */
export function routeTable(): (method: string | undefined, path: string) => RouteMatch | undefined {
  const keyed = API_ROUTES.map((route) => ({ route, routeKey: `${route.method} ${route.path}` }));
  const exact = new Map<string, RouteMatch>();
  keyed.forEach((k, i) => {
    if (k.route.path.includes('{')) return;
    const earlier = keyed.slice(0, i).some((e) => e.route.method === k.route.method && matchPath(e.route.path, k.route.path));
    if (!earlier && !exact.has(k.routeKey)) exact.set(k.routeKey, k);
  });
  return (method, path) => {
    const hit = exact.get(`${method} ${path}`);
    if (hit) return hit;
    for (const k of keyed) {
      if (k.route.method !== method) continue;
      const raw = matchPath(k.route.path, path);
      if (raw) return { ...k, raw };
    }
    return undefined;
  };
}

export function startServer(
  handlers: Record<ApiFunction, HttpHandler>,
  port: number,
  host = '127.0.0.1',
  opts: ServerOptions = {},
): Promise<Server> {
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxEventBytes = opts.maxEventBytes ?? LAMBDA_SYNC_PAYLOAD_BYTES;
  const requestTimeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const cors = corsTable(opts.corsAllowedOrigins ?? ['*']);
  const routes = routeTable();
  const server = createServer(
    { requestTimeout, headersTimeout: requestTimeout, connectionsCheckingInterval: Math.min(1000, requestTimeout) },
    async (req, res) => {
      const corsOut = cors(req.headers.origin);
      try {
        if (req.method === 'OPTIONS') return writeResponse(res, corsOut, 204, undefined, '');
        const url = requestTarget(req.url);
        const path = url.pathname;
        if (opts.console && isConsolePath(path)) {
          const page = serveConsole(opts.console, req.method ?? 'GET', path);
          return writeResponse(res, corsOut, page.status, page.headers, page.body);
        }
        const declared = Number(req.headers['content-length']);
        if (Number.isFinite(declared) && declared > maxBodyBytes) return tooLarge(req, res, corsOut, maxBodyBytes);
        const body = await readBody(req, maxBodyBytes);
        if (body === 'too-large') return tooLarge(req, res, corsOut, maxBodyBytes);
        // API Gateway routes `/sourceConfig/` (RudderStack JS asks for it) to `/sourceConfig`.
        const routePath = path.length > 1 && path.endsWith('/') ? path.replace(/(.)\/+$/, '$1') : path;
        const found = routes(req.method, routePath);
        if (found) {
          const { route: r, raw } = found;
          let params: Record<string, string>;
          try {
            params = raw ? decodePathParameters(raw) : NO_PARAMS;
          } catch (err) {
            const out = errorResponse(err);
            return writeResponse(res, corsOut, out.statusCode ?? 400, out.headers, out.body ?? '');
          }
          const event = toApiEvent(req, body, found.routeKey, params, url);
          // Lambda refuses a synchronous invocation over 6 MB; API Gateway answers 413.
          if (!eventWithin(event, maxEventBytes))
            return writeResponse(res, corsOut, 413, JSON_TYPE, JSON.stringify({ message: 'Request Too Long' }));
          const out = await handlers[r.fn](event);
          return writeResponse(res, corsOut, out.statusCode ?? 200, out.headers, out.body ?? '');
        }
        writeResponse(
          res,
          corsOut,
          404,
          JSON_TYPE,
          JSON.stringify({ success: false, error: 'not_found', message: `no route ${req.method} ${path}` }),
        );
      } catch {
        writeResponse(res, corsOut, 500, JSON_TYPE, JSON.stringify({ success: false, error: 'internal_error', message: 'internal error' }));
      }
    },
  );
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
