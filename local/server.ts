/**
 * The local HTTP endpoint: turns each request into the API Gateway (HTTP API, payload 2.0)
 * event the cloud would send, and calls the same handler.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { API_ROUTES, matchPath, type ApiFunction } from '../lambdas/routes';

export type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** The largest body the local endpoint reads (API Gateway's own limit is 10 MB). */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET,POST,PUT,DELETE,OPTIONS',
  'access-control-allow-headers': 'content-type,authorization,content-encoding',
  'access-control-max-age': '600',
};

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? 'too-large' : Buffer.concat(chunks)));
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

function send(res: ServerResponse, status: number, headers: Record<string, string | number | boolean>, body: string): void {
  res.writeHead(status, { ...CORS, ...headers });
  res.end(body);
}

export function startServer(handlers: Record<ApiFunction, HttpHandler>, port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer(async (req, res) => {
    try {
      if (req.method === 'OPTIONS') return send(res, 204, {}, '');
      const body = await readBody(req);
      if (body === 'too-large') return send(res, 413, { 'content-type': 'application/json' }, JSON.stringify({ success: false, error: 'payload_too_large', message: 'the body exceeds 10 MB', limit: 'maxRequestBytes' }));
      const path = new URL(req.url ?? '/', 'http://local').pathname;
      for (const r of API_ROUTES) {
        if (r.method !== req.method) continue;
        const params = matchPath(r.path, path);
        if (!params) continue;
        const out = await handlers[r.fn](toApiEvent(req, body, `${r.method} ${r.path}`, params));
        const headers: Record<string, string | number | boolean> = { ...(out.headers ?? {}) };
        return send(res, out.statusCode ?? 200, headers, out.body ?? '');
      }
      send(res, 404, { 'content-type': 'application/json' }, JSON.stringify({ success: false, error: 'not_found', message: `no route ${req.method} ${path}` }));
    } catch {
      send(res, 500, { 'content-type': 'application/json' }, JSON.stringify({ success: false, error: 'internal_error', message: 'internal error' }));
    }
  });
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
