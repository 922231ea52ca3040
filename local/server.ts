/**
 * The local HTTP endpoint: turns each request into the API Gateway (HTTP API, payload 2.0)
 * event the cloud would send, and calls the same handler.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { API_ROUTES, CORS_ALLOW_HEADERS, matchPath, type ApiFunction } from '../lambdas/routes';

export type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** The largest body the local endpoint reads by default: API Gateway's own limit, 10 MB. */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

export interface ServerOptions {
  /** Bodies over this many bytes (as received) get a 413 before any handler runs. @default 10 MB */
  readonly maxBodyBytes?: number;
  /** Origins allowed by CORS, like the construct prop `corsAllowedOrigins`. @default ['*'] */
  readonly corsAllowedOrigins?: readonly string[];
}

const CORS = {
  'access-control-allow-methods': 'GET,POST,PUT,DELETE,OPTIONS',
  'access-control-allow-headers': CORS_ALLOW_HEADERS.map((h) => h.toLowerCase()).join(','),
  'access-control-max-age': '600',
};

/** CORS headers for a request from `origin`: none when the origin is not allowed. */
export function corsHeaders(origin: string | undefined, allowed: readonly string[]): Record<string, string> {
  if (allowed.includes('*')) return { ...CORS, 'access-control-allow-origin': '*' };
  if (origin && allowed.includes(origin)) return { ...CORS, 'access-control-allow-origin': origin, vary: 'Origin' };
  return { vary: 'Origin' };
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= maxBytes) chunks.push(c);
    });
    req.on('end', () => resolve(size > maxBytes ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function isText(contentType: string | undefined, encoding: string | undefined): boolean {
  if (encoding && encoding !== 'identity') return false;
  return !contentType || /json|text|x-www-form-urlencoded|javascript|xml/i.test(contentType);
}

export function toApiEvent(req: IncomingMessage, body: Buffer, routeKey: string, pathParameters: Record<string, string>): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://local');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  // API Gateway tells the function the scheme the client used; locally it is plain HTTP.
  headers['x-forwarded-proto'] ??= 'http';
  const text = isText(headers['content-type'], headers['content-encoding']);
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
      http: { method: req.method ?? 'GET', path: url.pathname, protocol: 'HTTP/1.1', sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
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

export function startServer(handlers: Record<ApiFunction, HttpHandler>, port: number, host = '127.0.0.1', opts: ServerOptions = {}): Promise<Server> {
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const allowed = opts.corsAllowedOrigins ?? ['*'];
  const server = createServer(async (req, res) => {
    const send = (status: number, headers: Record<string, string | number | boolean>, body: string): void => {
      const out: Record<string, string> = corsHeaders(req.headers.origin, allowed);
      for (const [k, v] of Object.entries(headers)) out[k] = String(v);
      res.writeHead(status, out);
      res.end(body);
    };
    try {
      if (req.method === 'OPTIONS') return send(204, {}, '');
      const body = await readBody(req, maxBodyBytes);
      if (body === 'too-large') {
        return send(413, { 'content-type': 'application/json' }, JSON.stringify({ success: false, error: 'payload_too_large', message: `the body exceeds ${maxBodyBytes} bytes`, limit: 'maxRequestBytes' }));
      }
      const path = new URL(req.url ?? '/', 'http://local').pathname;
      // API Gateway routes `/sourceConfig/` (RudderStack JS asks for it) to `/sourceConfig`.
      const routePath = path.replace(/(.)\/+$/, '$1');
      for (const r of API_ROUTES) {
        if (r.method !== req.method) continue;
        const params = matchPath(r.path, routePath);
        if (!params) continue;
        const out = await handlers[r.fn](toApiEvent(req, body, `${r.method} ${r.path}`, params));
        const headers: Record<string, string | number | boolean> = { ...(out.headers ?? {}) };
        return send(out.statusCode ?? 200, headers, out.body ?? '');
      }
      send(404, { 'content-type': 'application/json' }, JSON.stringify({ success: false, error: 'not_found', message: `no route ${req.method} ${path}` }));
    } catch {
      send(500, { 'content-type': 'application/json' }, JSON.stringify({ success: false, error: 'internal_error', message: 'internal error' }));
    }
  });
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
