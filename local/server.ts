/**
 * The local HTTP endpoint: turns each request into the API Gateway (HTTP API, payload 2.0)
 * event the cloud would send, and calls the same handler. Faithful where the cloud differs from
 * a plain Node server: path parameters arrive decoded; a body is text only for the content types
 * HTTP APIs pass as text (else base64, whatever the `Content-Encoding`); a body over 10 MB is a
 * 413 before it is read (by `Content-Length`) or as soon as it passes the limit; an event over
 * Lambda's 6 MB synchronous payload is a 413 `Request Too Long` without invoking the handler.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { API_ROUTES, CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS, matchPath, type ApiFunction } from '../lambdas/routes';
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

/** The body, or `too-large` as soon as more than `maxBytes` came (the rest is not read). */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size <= maxBytes) return void chunks.push(c);
      req.off('data', onData);
      req.pause();
      resolve('too-large');
    };
    req.on('data', onData);
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

/**
 * Whether the event, as JSON, is certainly at most `maxBytes`: true when an upper bound on its
 * size is (JSON.stringify writes each UTF-16 unit of a string as at most 6 bytes, `\uXXXX`, and
 * the event's own structure and keys take far less than 4 KB), so only an event near the limit
 * is serialized to measure it exactly.
 */
export function eventWithin(event: APIGatewayProxyEventV2, maxBytes: number): boolean {
  let chars = (event.body?.length ?? 0) + event.rawPath.length + event.rawQueryString.length * 2 + event.routeKey.length * 2;
  for (const [k, v] of Object.entries(event.headers)) chars += k.length + (v?.length ?? 0) + 8;
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) chars += k.length + (v?.length ?? 0) + 8;
  for (const [k, v] of Object.entries(event.pathParameters ?? {})) chars += k.length + (v?.length ?? 0) + 8;
  chars += event.requestContext.domainName.length + event.requestContext.http.userAgent.length + event.requestContext.http.path.length;
  if (6 * chars + 4096 <= maxBytes) return true;
  return Buffer.byteLength(JSON.stringify(event), 'utf8') <= maxBytes;
}

export function toApiEvent(
  req: IncomingMessage,
  body: Buffer,
  routeKey: string,
  pathParameters: Record<string, string>,
  url: URL = new URL(req.url ?? '/', 'http://local'),
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  // API Gateway tells the function the scheme the client used; locally it is plain HTTP.
  headers['x-forwarded-proto'] ??= 'http';
  const text = httpApiPassesAsText(headers['content-type']);
  const now = new Date();
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
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length === 0 ? undefined : text ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !text,
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
  const allowed = opts.corsAllowedOrigins ?? ['*'];
  const server = createServer(
    { requestTimeout, headersTimeout: requestTimeout, connectionsCheckingInterval: Math.min(1000, requestTimeout) },
    async (req, res) => {
      const send = (status: number, headers: Record<string, string | number | boolean>, body: string | Buffer): void => {
        const out: Record<string, string> = corsHeaders(req.headers.origin, allowed);
        for (const [k, v] of Object.entries(headers)) out[k] = String(v);
        // As API Gateway answers: with the length, not chunked (one write instead of several).
        if (status !== 204 && status !== 304) out['content-length'] ??= String(Buffer.byteLength(body));
        res.writeHead(status, out);
        res.end(body);
      };
      // API Gateway's answer to a body over its limit; the connection is not read any further.
      const tooLarge = () => {
        res.shouldKeepAlive = false;
        send(
          413,
          { 'content-type': 'text/plain; charset=utf-8', connection: 'close' },
          `HTTP content length exceeded ${maxBodyBytes} bytes.`,
        );
        res.once('finish', () => req.destroy());
      };
      try {
        if (req.method === 'OPTIONS') return send(204, {}, '');
        const url = new URL(req.url ?? '/', 'http://local');
        const path = url.pathname;
        if (opts.console && isConsolePath(path)) {
          const page = serveConsole(opts.console, req.method ?? 'GET', path);
          return send(page.status, page.headers, page.body);
        }
        const declared = Number(req.headers['content-length']);
        if (Number.isFinite(declared) && declared > maxBodyBytes) return tooLarge();
        const body = await readBody(req, maxBodyBytes);
        if (body === 'too-large') return tooLarge();
        // API Gateway routes `/sourceConfig/` (RudderStack JS asks for it) to `/sourceConfig`.
        const routePath = path.replace(/(.)\/+$/, '$1');
        for (const r of API_ROUTES) {
          if (r.method !== req.method) continue;
          const raw = matchPath(r.path, routePath);
          if (!raw) continue;
          let params: Record<string, string>;
          try {
            params = decodePathParameters(raw);
          } catch (err) {
            const out = errorResponse(err);
            return send(out.statusCode ?? 400, { ...(out.headers ?? {}) }, out.body ?? '');
          }
          const event = toApiEvent(req, body, `${r.method} ${r.path}`, params, url);
          // Lambda refuses a synchronous invocation over 6 MB; API Gateway answers 413.
          if (!eventWithin(event, maxEventBytes))
            return send(413, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Request Too Long' }));
          const out = await handlers[r.fn](event);
          const headers: Record<string, string | number | boolean> = { ...(out.headers ?? {}) };
          return send(out.statusCode ?? 200, headers, out.body ?? '');
        }
        send(
          404,
          { 'content-type': 'application/json' },
          JSON.stringify({ success: false, error: 'not_found', message: `no route ${req.method} ${path}` }),
        );
      } catch {
        send(
          500,
          { 'content-type': 'application/json' },
          JSON.stringify({ success: false, error: 'internal_error', message: 'internal error' }),
        );
      }
    },
  );
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
