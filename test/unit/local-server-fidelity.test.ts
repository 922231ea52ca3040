/**
 * The local HTTP adapter behaves like API Gateway (HTTP API, payload 2.0) in front of Lambda:
 * decoded path parameters, text or base64 bodies by content type, API Gateway's 10 MB body limit
 * (refused early and without reading on), Lambda's 6 MB invoke limit, and no connection held
 * open by a client that never sends its body.
 */
import { connect } from 'node:net';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { eventWithin, startServer, type HttpHandler } from '../../local/server';
import { createCollectHandler } from '../../lambdas/collect';
import { GZIP_AS_TEXT } from '../../lambdas/shared/http';
import { BootstrapKeyStore, envLoader } from '../../adapters/keys';
import { MemoryQueue } from '../helpers/collect';

const seen: APIGatewayProxyEventV2[] = [];
const echo: HttpHandler = async (event) => {
  seen.push(event);
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ok: true }) };
};

let server: Server;
let url: string;
let port: number;

beforeAll(async () => {
  const keys = new BootstrapKeyStore({ write: envLoader('wk'), read: envLoader('rk'), admin: envLoader('ak') });
  const queue = new MemoryQueue();
  const collect = createCollectHandler(() => ({ keys, queue }));
  server = await startServer(
    { collect, profile: echo, context: echo, admin: echo, rules: echo, import: echo, insights: echo, identity: echo },
    0,
    '127.0.0.1',
    { maxBodyBytes: 1024 * 1024, maxEventBytes: 512 * 1024, requestTimeoutMs: 500 },
  );
  port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;
});
afterAll(
  () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
);
beforeEach(() => void (seen.length = 0));

/** Writes raw bytes on a socket; resolves with what the server answered once it closes the socket. */
function raw(head: string, body?: Buffer | string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let answer = '';
    s.on('data', (d) => (answer += d.toString('latin1')));
    s.on('close', () => resolve(answer));
    s.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? resolve(answer) : reject(err)));
    s.write(head);
    if (body !== undefined) s.write(body);
  });
}

describe('path parameters', () => {
  it('arrive percent-decoded once, as HTTP APIs hand them over', async () => {
    await fetch(`${url}/v1/profiles/user_id:a%25b%2Fc%41`, { headers: { authorization: 'Bearer rk' } });
    expect(seen[0]!.pathParameters).toEqual({ id: 'user_id:a%b/cA' });
    expect(seen[0]!.rawPath).toBe('/v1/profiles/user_id:a%25b%2Fc%41');
  });

  it('a malformed percent-encoding is a 400, never a 5xx, and no handler runs', async () => {
    const res = await fetch(`${url}/v1/profiles/user_id:%E0%A4%A`);
    expect(res.status).toBe(400);
    expect(seen).toHaveLength(0);
  });
});

describe('headers', () => {
  it('are the names the client sent, and nothing else: a prototype name is a header only when sent', async () => {
    await raw(`GET /v1/profiles/user_id:h HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer rk\r\nconstructor: c\r\nConnection: close\r\n\r\n`);
    await raw(`GET /v1/profiles/user_id:h HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer rk\r\nConnection: close\r\n\r\n`);
    expect(seen[0]!.headers.constructor).toBe('c');
    expect(seen[0]!.headers.authorization).toBe('Bearer rk');
    expect(seen[1]!.headers.constructor).toBeUndefined();
    expect(seen[1]!.headers.toString).toBeUndefined();
  });
});

describe('bodies: text or base64 as an HTTP API decides, by content type only', () => {
  const post = (headers: Record<string, string>, body: Buffer | string) => fetch(`${url}/v1/import`, { method: 'POST', headers, body });

  it.each([
    ['application/json', false],
    ['application/json; charset=utf-8', false],
    ['text/plain;charset=UTF-8', false],
    ['application/xml', false],
    ['application/x-www-form-urlencoded', true],
    ['application/octet-stream', true],
  ])('%s: isBase64Encoded %s', async (type, base64) => {
    await post({ 'content-type': type }, '{"a":1}');
    expect(seen[0]!.isBase64Encoded).toBe(base64);
    expect(base64 ? Buffer.from(seen[0]!.body!, 'base64').toString() : seen[0]!.body).toBe('{"a":1}');
  });

  it('no content type: base64', async () => {
    await raw(`POST /v1/import HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nConnection: close\r\n\r\n`, '{"a":1}');
    expect(seen[0]!.isBase64Encoded).toBe(true);
  });

  it('gzip sent as application/json reaches the handler as text, as in the cloud, and collect says why it cannot read it', async () => {
    const gz = gzipSync('{"userId":"u1","event":"Gzip Test"}');
    const res = await fetch(`${url}/v1/track`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        authorization: `Basic ${Buffer.from('wk:').toString('base64')}`,
      },
      body: gz,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toBe(GZIP_AS_TEXT);
  });

  it('gzip sent as application/octet-stream is base64-encoded and accepted', async () => {
    const gz = gzipSync('{"userId":"u1","event":"Gzip Test"}');
    const res = await fetch(`${url}/v1/track`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'content-encoding': 'gzip',
        authorization: `Basic ${Buffer.from('wk:').toString('base64')}`,
      },
      body: gz,
    });
    expect(res.status).toBe(200);
  });
});

describe('limits', () => {
  it('a declared Content-Length over the limit is a 413 before any of the body is sent; the connection is closed', async () => {
    const answer = await raw(
      `POST /v1/import HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${200 * 1024 * 1024}\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    expect(answer).toContain('HTTP content length exceeded 1048576 bytes.');
    expect(seen).toHaveLength(0);
  });

  it('a chunked body stops being read at the limit: 413 and the connection closed while the client still sends', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const answer = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1');
      let out = '';
      let open = true;
      s.on('data', (d) => (out += d.toString('latin1')));
      s.on('close', () => {
        open = false;
        resolve(out);
      });
      s.on('error', () => undefined);
      s.write('POST /v1/import HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
      // 200 MB offered; the server must hang up long before.
      let sent = 0;
      const pump = () => {
        while (open && sent < 200 * 1024 * 1024) {
          sent += chunk.length;
          if (!s.write(`${chunk.length.toString(16)}\r\n${chunk.toString()}\r\n`)) return void s.once('drain', pump);
        }
      };
      pump();
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    expect(seen).toHaveLength(0);
  });

  it("an event over Lambda's synchronous payload limit is a 413 Request Too Long; the handler is not invoked", async () => {
    // 400 KB of binary, base64-encoded in the event: over the 512 KB event limit of this server.
    const res = await fetch(`${url}/v1/import`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(400 * 1024, 1),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ message: 'Request Too Long' });
    expect(seen).toHaveLength(0);
    // The same bytes as text fit (no base64 growth).
    const ok = await fetch(`${url}/v1/import`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'a'.repeat(400 * 1024) });
    expect(ok.status).toBe(200);
  });

  it('the size check serializes only events near the limit, and never lets one over it through', () => {
    const event = (body: string, ua: string) =>
      ({
        version: '2.0',
        routeKey: 'POST /v1/import',
        rawPath: '/v1/import',
        rawQueryString: 'a=%00',
        headers: { 'user-agent': ua, 'content-type': 'text/plain' },
        queryStringParameters: { a: '\u0000' },
        requestContext: { domainName: 'localhost', http: { method: 'POST', path: '/v1/import', userAgent: ua } },
        body,
        isBase64Encoded: false,
      }) as unknown as APIGatewayProxyEventV2;
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 3000 }),
        fc.string({ maxLength: 200 }),
        fc.integer({ min: 1000, max: 20_000 }),
        (body, ua, max) => {
          const e = event(body, ua);
          expect(eventWithin(e, max)).toBe(Buffer.byteLength(JSON.stringify(e), 'utf8') <= max);
        },
      ),
    );
  });

  it('a client that declares a body and never sends it is answered 408 and disconnected, not held', async () => {
    const answer = await raw(
      `POST /v1/import HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`,
      '{"a":',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(seen).toHaveLength(0);
  });
});
