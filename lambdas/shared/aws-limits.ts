/**
 * Service limits the construct (lib/) checks at synth and the local runtime (local/) enforces,
 * so a request that would fail in the cloud fails the same way locally.
 */

/** API Gateway HTTP APIs refuse a request body over 10 MB with a 413 before any integration runs. */
export const HTTP_API_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** Lambda's synchronous invocation payload limit: the whole API Gateway event, as JSON. */
export const LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** Room kept in the 6 MB for the rest of the event (headers, request context, path). */
const EVENT_ENVELOPE_BYTES = 64 * 1024;

/**
 * The largest body that always reaches a function through an HTTP API: a body API Gateway
 * base64-encodes (binary, gzip) grows by 4/3, and the event around it must stay under 6 MB.
 * About 4.45 MB.
 */
export const MAX_API_BODY_BYTES = Math.floor(((LAMBDA_SYNC_PAYLOAD_BYTES - EVENT_ENVELOPE_BYTES) * 3) / 4);

/** Lambda allows 4 KB of environment variables per function (keys and values, UTF-8 bytes). */
export const LAMBDA_ENVIRONMENT_BYTES = 4 * 1024;

/**
 * Content types whose bodies an HTTP API hands to Lambda as text (`isBase64Encoded: false`);
 * every other body, a missing content type and `application/x-www-form-urlencoded` included, is
 * base64-encoded. `Content-Encoding` plays no part: a gzip body sent as `application/json` is
 * passed as text, i.e. decoded as UTF-8, and its bytes are lost.
 */
export function httpApiPassesAsText(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return type.startsWith('text/') || type === 'application/json' || type === 'application/xml' || type === 'application/javascript';
}
