/**
 * HTTP plumbing shared by the API handlers: body decoding, credentials, and one mapping from
 * domain errors to status codes and JSON error bodies.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { gunzipSync } from 'node:zlib';
import {
  AlreadyExistsError,
  AuthenticationError,
  LimitExceededError,
  NotFoundError,
  RateLimitedError,
  ScherpError,
  ValidationError,
} from '../../core/errors';
import { parseJson } from '../../core/numbers';
import type { ApiAddress } from '../../core/sdk-settings';
import { errorFields, logger } from './observability';

export type HttpResult = APIGatewayProxyStructuredResultV2;

export function json(statusCode: number, body: unknown): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const h = event.headers ?? {};
  return h[name] ?? Object.entries(h).find(([k]) => k.toLowerCase() === name)?.[1];
}

function tooLarge(maxBytes: number): LimitExceededError {
  return new LimitExceededError(`the request body exceeds ${maxBytes} bytes (maxRequestBytes)`, 'maxRequestBytes');
}

/** Why a gzip body sent as `application/json` (or `text/*`) cannot be read behind an HTTP API. */
export const GZIP_AS_TEXT =
  'the gzip body arrived as text: API Gateway HTTP APIs pass application/json and text/* bodies as UTF-8 text, which loses compressed bytes. Send gzip bodies with Content-Type: application/octet-stream, or send them uncompressed';

/**
 * The request body as text: base64 undone (HTTP APIs base64-encode bodies they do not consider
 * text, such as gzip), gzip undone. Bodies over `maxBytes`, before or after decompression, are
 * refused without being inflated further. Every handler decodes its body here, with its cap.
 */
export function bodyText(event: APIGatewayProxyEventV2, maxBytes: number): string {
  if (!event.body) return '';
  const encoding = header(event, 'content-encoding')?.toLowerCase();
  // Plain text (the common case): no copy through a Buffer.
  if (!event.isBase64Encoded && encoding !== 'gzip' && event.body.charCodeAt(0) !== 0x1f) {
    if (Buffer.byteLength(event.body, 'utf8') > maxBytes) throw tooLarge(maxBytes);
    return event.body;
  }
  let buf = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (buf.length > maxBytes) throw tooLarge(maxBytes);
  if (encoding === 'gzip' || (buf[0] === 0x1f && buf[1] === 0x8b)) {
    try {
      buf = gunzipSync(buf, { maxOutputLength: maxBytes });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) throw tooLarge(maxBytes);
      // API Gateway passed it as text (an application/json or text/* body): its bytes are lost.
      if (!event.isBase64Encoded) throw new ValidationError(GZIP_AS_TEXT, [{ path: '(body)', message: 'is gzip delivered as text' }]);
      throw new ValidationError('the body is not valid gzip', [{ path: '(body)', message: 'is not valid gzip' }]);
    }
  }
  return buf.toString('utf8');
}

/**
 * Parses the body as JSON whatever its content type (beacons send text/plain), at most
 * `maxBytes` after decompression. Numbers JSON cannot carry exactly are kept as strings
 * (`parseJson`, core/numbers.ts).
 */
export function parseJsonBody(event: APIGatewayProxyEventV2, maxBytes: number): unknown {
  const text = bodyText(event, maxBytes);
  if (!text) throw new ValidationError('the body is empty; send a JSON object', [{ path: '(body)', message: 'is empty' }]);
  try {
    return parseJson(text);
  } catch {
    throw new ValidationError('the body is not valid JSON', [{ path: '(body)', message: 'is not valid JSON' }]);
  }
}

/**
 * One URL-decoded path segment. Malformed percent-encoding (`%E0%A4%A`) is the client's error:
 * a 400 naming the parameter, never a 500.
 */
export function decodePathSegment(raw: string, name: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ValidationError(`the path parameter ${name} is not valid percent-encoded UTF-8`, [
      { path: name, message: 'is not valid percent-encoded UTF-8' },
    ]);
  }
}

/**
 * The key from HTTP Basic auth (key as user name, empty password, as Segment sends it)
 * or from a `Bearer` token.
 */
export function credential(event: APIGatewayProxyEventV2): string | undefined {
  const auth = header(event, 'authorization');
  if (!auth) return undefined;
  const [scheme, value] = auth.trim().split(/\s+/, 2);
  if (!value) return undefined;
  if (scheme!.toLowerCase() === 'bearer') return value;
  if (scheme!.toLowerCase() !== 'basic') return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i === -1 ? decoded : decoded.slice(0, i);
}

export function clientIp(event: APIGatewayProxyEventV2): string | undefined {
  return event.requestContext?.http?.sourceIp;
}

export function userAgent(event: APIGatewayProxyEventV2): string | undefined {
  return header(event, 'user-agent');
}

/**
 * Where the client reached the API: the scheme (API Gateway's `X-Forwarded-Proto`), the host it
 * asked for, and the base path in front of the route `routePath` (a custom domain's API mapping).
 */
export function apiAddress(event: APIGatewayProxyEventV2, routePath: string): ApiAddress {
  const proto = header(event, 'x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  const asked = header(event, 'host');
  const host = asked && /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(asked) ? asked : event.requestContext.domainName;
  const segments = event.rawPath.replace(/\/+$/, '').split('/');
  const depth = routePath.split('/').length - 1;
  return {
    protocol: proto === 'http' ? 'http' : 'https',
    host,
    basePath: segments.slice(0, Math.max(1, segments.length - depth)).join('/'),
  };
}

/** Maps an error to its response; unexpected ones become a 500 with no detail. */
export function errorResponse(err: unknown): HttpResult {
  if (err instanceof ValidationError) return json(400, { success: false, error: err.code, message: err.message, issues: err.issues });
  if (err instanceof AuthenticationError) return json(401, { success: false, error: err.code, message: err.message });
  if (err instanceof NotFoundError) return json(404, { success: false, error: err.code, message: err.message });
  if (err instanceof AlreadyExistsError) return json(409, { success: false, error: err.code, message: err.message, issues: err.issues });
  if (err instanceof LimitExceededError) return json(413, { success: false, error: err.code, message: err.message, limit: err.limit });
  if (err instanceof RateLimitedError) {
    const r = json(429, { success: false, error: err.code, message: err.message, limit: 'sourceRateLimit' });
    return { ...r, headers: { ...r.headers, 'retry-after': String(err.retryAfterSeconds) } };
  }
  if (err instanceof ScherpError) return json(400, { success: false, error: err.code, message: err.message });
  logger.error('unexpected error', errorFields(err));
  return json(500, { success: false, error: 'internal_error', message: 'internal error; the request may be retried' });
}
