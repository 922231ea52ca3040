/** In-memory stand-ins and request builders for collect handler tests (and the benchmark). */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { EventQueue, RejectedRecord, RejectedStore } from '../../app/ports';
import type { PayloadMatcher } from '../../core/mentions';
import type { ScherpEvent } from '../../core/events';

export class MemoryQueue implements EventQueue {
  sent: ScherpEvent[] = [];
  fail = false;
  async send(events: readonly ScherpEvent[]): Promise<void> {
    if (this.fail) throw new Error('queue down');
    this.sent.push(...events);
  }
}

export class MemoryRejectedStore implements RejectedStore {
  records: RejectedRecord[] = [];
  async save(records: readonly RejectedRecord[]): Promise<void> {
    this.records.push(...records);
  }
  async list(opts: { limit: number; sourceId?: string }): Promise<RejectedRecord[]> {
    return this.records
      .filter((r) => !opts.sourceId || r.sourceId === opts.sourceId)
      .slice(-opts.limit)
      .reverse();
  }
  async listMatching(matches: PayloadMatcher): Promise<RejectedRecord[]> {
    return this.records.filter((r) => matches(r.payload) || matches(JSON.stringify(r.issues))).reverse();
  }
  async eraseMatching(matches: PayloadMatcher): Promise<number> {
    const before = this.records.length;
    this.records = this.records.filter((r) => !(matches(r.payload) || matches(JSON.stringify(r.issues))));
    return before - this.records.length;
  }
}

export const basicAuth = (k: string) => ({ authorization: `Basic ${Buffer.from(`${k}:`).toString('base64')}` });

export function apiRequest(
  path: string,
  body: string | Buffer | undefined,
  headers: Record<string, string>,
  isBase64Encoded = false,
): APIGatewayProxyEventV2 {
  return {
    rawPath: path,
    routeKey: `POST ${path}`,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : body.toString('base64'),
    isBase64Encoded: isBase64Encoded || Buffer.isBuffer(body),
    requestContext: { http: { method: 'POST', sourceIp: '10.0.0.1' }, requestId: 'req-1' },
  } as unknown as APIGatewayProxyEventV2;
}
