import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { gzipSync } from 'node:zlib';
import { bodyText, credential, errorResponse, parseJsonBody } from '../../lambdas/shared/http';
import { AuthenticationError, LimitExceededError, NotFoundError, ValidationError } from '../../core/errors';
import { errorFields } from '../../lambdas/shared/observability';

const ev = (over: Partial<APIGatewayProxyEventV2>): APIGatewayProxyEventV2 =>
  ({ headers: {}, rawPath: '/', ...over }) as APIGatewayProxyEventV2;
const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;

describe('http helpers', () => {
  it('reads the write key from Basic auth with or without the colon, and from Bearer', () => {
    expect(credential(ev({ headers: { authorization: basic('key:') } }))).toBe('key');
    expect(credential(ev({ headers: { Authorization: basic('key') } }))).toBe('key');
    expect(credential(ev({ headers: { authorization: 'Bearer tok' } }))).toBe('tok');
    expect(credential(ev({ headers: { authorization: 'Digest x' } }))).toBeUndefined();
    expect(credential(ev({}))).toBeUndefined();
  });

  it('decodes base64 and gzip bodies', () => {
    const gz = gzipSync(Buffer.from('{"a":1}')).toString('base64');
    expect(bodyText(ev({ body: gz, isBase64Encoded: true, headers: { 'content-encoding': 'gzip' } }), 1024)).toBe('{"a":1}');
    expect(parseJsonBody(ev({ body: '{"a":1}' }), 1024)).toEqual({ a: 1 });
  });

  it('maps bad bodies to validation errors', () => {
    expect(() => parseJsonBody(ev({ body: '{' }), 1024)).toThrow(ValidationError);
    expect(() => parseJsonBody(ev({}), 1024)).toThrow(/empty/);
    expect(() => bodyText(ev({ body: Buffer.from([0x1f, 0x8b, 1, 2]).toString('base64'), isBase64Encoded: true }), 1024)).toThrow(/gzip/);
  });

  it('maps domain errors to status codes', () => {
    expect(errorResponse(new ValidationError('x')).statusCode).toBe(400);
    expect(errorResponse(new AuthenticationError('x')).statusCode).toBe(401);
    expect(errorResponse(new NotFoundError('x')).statusCode).toBe(404);
    expect(errorResponse(new LimitExceededError('x', 'maxBatchEvents')).statusCode).toBe(413);
    const r = errorResponse(new Error('secret detail'));
    expect(r.statusCode).toBe(500);
    expect(r.body).not.toMatch(/secret detail/);
  });
});

describe('error logging', () => {
  it('drops quoted input from error messages', () => {
    let err: unknown;
    try {
      JSON.parse('{"email":"ada@example.com"');
    } catch (e) {
      err = e;
    }
    expect(JSON.stringify(errorFields(err))).not.toContain('ada@example.com');
    expect(errorFields(new Error("bad value 'ada@example.com' here")).errorMessage).toBe('bad value "…" here');
  });
});
