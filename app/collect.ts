/**
 * The collect use case: authenticate the source, validate and stamp the events, queue the
 * accepted ones. Nothing is queued for a request that fails authentication or validation.
 */
import { randomUUID } from 'node:crypto';
import { AuthenticationError } from '../core/errors';
import { ingest, type IngestLimits, type RejectedEvent, type Route } from '../core/ingest';
import type { EventQueue, KeyStore } from './ports';

export interface CollectDeps {
  readonly keys: KeyStore;
  readonly queue: EventQueue;
  readonly now?: () => Date;
  readonly newMessageId?: () => string;
  readonly limits?: IngestLimits;
}

export interface CollectRequest {
  readonly route: Route;
  readonly body: unknown;
  /** The key from the Authorization header, if any. */
  readonly credential?: string;
  readonly ip?: string;
  readonly userAgent?: string;
}

export interface CollectResult {
  readonly accepted: number;
  readonly rejected: readonly RejectedEvent[];
}

/** Browsers using navigator.sendBeacon cannot set headers, so the key may come in the body. */
function bodyKey(body: unknown): string | undefined {
  const k = (body as { writeKey?: unknown } | null)?.writeKey;
  return typeof k === 'string' ? k : undefined;
}

export async function collect(deps: CollectDeps, req: CollectRequest): Promise<CollectResult> {
  const key = req.credential || bodyKey(req.body);
  if (!key) throw new AuthenticationError('missing write key: send it as the HTTP Basic auth user name');
  const principal = await deps.keys.authenticate('write', key);
  if (!principal) throw new AuthenticationError('invalid write key');

  const { accepted, rejected } = ingest({
    route: req.route,
    body: req.body,
    receivedAt: (deps.now ?? (() => new Date()))(),
    sourceId: principal.sourceId,
    newMessageId: deps.newMessageId ?? randomUUID,
    limits: deps.limits,
    request: { ip: req.ip, userAgent: req.userAgent },
  });
  if (accepted.length > 0) await deps.queue.send(accepted);
  return { accepted: accepted.length, rejected };
}
