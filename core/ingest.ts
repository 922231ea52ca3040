/**
 * Turning one tracking-API request into accepted events: pure, no I/O.
 */
import { EVENT_TYPES, type EventType, type FieldIssue, IncomingEventSchema, type IncomingEvent, type ScherpEvent, zodIssues } from './events';
import { LimitExceededError, ValidationError } from './errors';
import { extractIdentifiers } from './identity';

export type Route = EventType | 'batch';
export const ROUTES: readonly Route[] = [...EVENT_TYPES, 'batch'];

export interface IngestLimits {
  /** Most events one batch may carry. @default 2500 (Segment's limit) */
  readonly maxBatchEvents: number;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = { maxBatchEvents: 2500 };

export interface IngestInput {
  readonly route: Route;
  readonly body: unknown;
  readonly receivedAt: Date;
  readonly sourceId: string;
  /** Makes a message id for events that arrive without one. */
  readonly newMessageId: () => string;
  readonly limits?: IngestLimits;
  /** Filled into `context.ip` and `context.userAgent` when the event lacks them. */
  readonly request?: { readonly ip?: string; readonly userAgent?: string };
}

export interface RejectedEvent {
  readonly index: number;
  readonly issues: FieldIssue[];
}

export interface IngestResult {
  readonly accepted: ScherpEvent[];
  readonly rejected: RejectedEvent[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * When the sender states `sentAt`, its clock may be off: the event happened
 * `sentAt − originalTimestamp` before it was sent, so on our clock it happened that long
 * before we received it. Without `sentAt`, the sender's timestamp is taken as is.
 */
export function correctTimestamp(e: Pick<IncomingEvent, 'timestamp' | 'originalTimestamp' | 'sentAt'>, receivedAt: Date): string {
  const original = e.originalTimestamp ?? e.timestamp;
  if (e.sentAt && original) {
    const delay = Date.parse(e.sentAt) - Date.parse(original);
    return new Date(receivedAt.getTime() - delay).toISOString();
  }
  return original ?? receivedAt.toISOString();
}

function stamp(e: IncomingEvent, input: IngestInput): ScherpEvent {
  const { timestamp: _t, ...rest } = e;
  const context = { ...(e.context ?? {}) };
  if (context.ip === undefined && input.request?.ip) context.ip = input.request.ip;
  if (context.userAgent === undefined && input.request?.userAgent) context.userAgent = input.request.userAgent;
  return {
    ...rest,
    context,
    messageId: e.messageId ?? input.newMessageId(),
    sourceId: input.sourceId,
    timestamp: correctTimestamp(e, input.receivedAt),
    receivedAt: input.receivedAt.toISOString(),
  };
}

function validateOne(raw: unknown, type: EventType, prefix: string): { ok: true; event: IncomingEvent } | { ok: false; issues: FieldIssue[] } {
  if (!isObject(raw)) return { ok: false, issues: [{ path: prefix || '(root)', message: 'must be a JSON object' }] };
  const parsed = IncomingEventSchema.safeParse({ ...raw, type });
  if (!parsed.success) return { ok: false, issues: zodIssues(parsed.error, prefix) };
  // An event whose ids are all placeholders ("anonymous", "0", …) can belong to nobody.
  if (extractIdentifiers(parsed.data).length === 0) {
    return { ok: false, issues: [{ path: prefix ? `${prefix}.userId` : 'userId', message: 'no usable userId or anonymousId (placeholder values such as "anonymous" or "0" are ignored)' }] };
  }
  return { ok: true, event: parsed.data };
}

/**
 * Validates and stamps the events of one request.
 * A single-event route either accepts its event or throws a ValidationError naming the field;
 * a batch accepts its valid items and reports the others by index.
 */
export function ingest(input: IngestInput): IngestResult {
  const limits = input.limits ?? DEFAULT_INGEST_LIMITS;
  const { route, body } = input;
  if (!isObject(body)) throw new ValidationError('the body must be a JSON object', [{ path: '(root)', message: 'must be a JSON object' }]);

  if (route !== 'batch') {
    const r = validateOne(body, route, '');
    if (!r.ok) throw new ValidationError(`invalid ${route} call: ${r.issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, r.issues);
    return { accepted: [stamp(r.event, input)], rejected: [] };
  }

  const items = body.batch;
  if (!Array.isArray(items)) throw new ValidationError('batch must be an array', [{ path: 'batch', message: 'must be an array' }]);
  if (items.length > limits.maxBatchEvents) {
    throw new LimitExceededError(`batch has ${items.length} events; the limit is ${limits.maxBatchEvents}`, 'maxBatchEvents');
  }
  const shared: Record<string, unknown> = {};
  if (isObject(body.context)) shared.context = body.context;
  if (isObject(body.integrations)) shared.integrations = body.integrations;

  const accepted: ScherpEvent[] = [];
  const rejected: RejectedEvent[] = [];
  items.forEach((item, index) => {
    const prefix = `batch[${index}]`;
    if (!isObject(item)) {
      rejected.push({ index, issues: [{ path: prefix, message: 'must be a JSON object' }] });
      return;
    }
    const type = item.type;
    if (typeof type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(type)) {
      rejected.push({ index, issues: [{ path: `${prefix}.type`, message: `must be one of ${EVENT_TYPES.join(', ')}` }] });
      return;
    }
    const merged = {
      ...item,
      context: { ...(shared.context as object | undefined), ...(isObject(item.context) ? item.context : {}) },
      integrations: { ...(shared.integrations as object | undefined), ...(isObject(item.integrations) ? item.integrations : {}) },
    };
    const r = validateOne(merged, type as EventType, prefix);
    if (r.ok) accepted.push(stamp(r.event, input));
    else rejected.push({ index, issues: r.issues });
  });
  return { accepted, rejected };
}
