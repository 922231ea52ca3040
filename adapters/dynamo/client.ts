import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MEMBERSHIP_SK_PREFIX } from './keys';

/** A document client; `endpoint` points it at DynamoDB Local. */
export function documentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
}

/** Credentials and region for DynamoDB Local (it accepts any). */
export function localDynamoConfig(endpoint: string): DynamoDBClientConfig {
  return { endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
}

/** Data operations (low-level command names; the document client runs through them). */
const WRITE_OPS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
const READ_OPS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);

/** One metered DynamoDB call. */
export interface MeteredCall {
  /** The operation, as `PutItem`. */
  readonly op: string;
  readonly kind: 'read' | 'write';
  /** Capacity units DynamoDB reported; a failed conditional write counts 1, its billed minimum. */
  readonly units: number;
  /** Items the call wrote (a failed conditional write wrote none). */
  readonly itemsWritten: number;
  readonly conditionFailed: boolean;
  /** Wall time of the call, ms. */
  readonly ms: number;
  /** The request body as sent (wire format), when `captureBody` asked for it. */
  readonly body?: string;
}

function sumUnits(cc: unknown): number {
  const list = (Array.isArray(cc) ? cc : cc ? [cc] : []) as { CapacityUnits?: number }[];
  return list.reduce((s, c) => s + (c?.CapacityUnits ?? 0), 0);
}

function countWrites(op: string, input: Record<string, unknown>): number {
  if (op === 'BatchWriteItem')
    return Object.values((input.RequestItems ?? {}) as Record<string, unknown[]>).reduce((s, l) => s + l.length, 0);
  if (op === 'TransactWriteItems') return ((input.TransactItems ?? []) as unknown[]).length;
  return 1;
}

const ATTRIBUTE_TYPES = new Set(['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS']);

/**
 * About the bytes DynamoDB counts for a value (attribute names plus values: UTF-8 text, number
 * digits, binary length), whether given as document-client values or as marshalled attribute
 * values (`{ S: … }`).
 */
export function estimateBytes(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (typeof v === 'number' || typeof v === 'bigint') return String(v).length;
  if (typeof v === 'boolean' || v === null || v === undefined) return 1;
  if (v instanceof Uint8Array) return v.byteLength;
  if (v instanceof Set) return [...v].reduce((n: number, x) => n + estimateBytes(x), 0);
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + 1 + estimateBytes(x), 3);
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 1 && ATTRIBUTE_TYPES.has(entries[0]![0])) return estimateBytes(entries[0]![1]);
  return entries.reduce((n, [k, x]) => n + Buffer.byteLength(k) + estimateBytes(x), 3);
}

/**
 * What DynamoDB bills for a transaction: two write units per 1 KB of every item it touches
 * (prepare and commit), condition checks included. DynamoDB Local reports far less (2 units for
 * a 20-item transaction, measured), so the meter counts it from the request: a put's item, an
 * update's key and values (a lower bound for an item that is larger than what the update names),
 * a delete's or a condition check's key; plus a write of the `members` index for each
 * membership item put or deleted.
 */
export function transactionUnits(input: Record<string, unknown>): number {
  const actions = (input.TransactItems ?? []) as Record<string, Record<string, unknown> | undefined>[];
  let units = 0;
  for (const a of actions) {
    const bytes = a.Put
      ? estimateBytes(a.Put.Item)
      : a.Update
        ? estimateBytes(a.Update.Key) + estimateBytes(a.Update.ExpressionAttributeValues ?? {})
        : estimateBytes((a.Delete ?? a.ConditionCheck)?.Key ?? {});
    units += 2 * Math.max(1, Math.ceil(bytes / 1024));
    // A membership item is in the `members` index, or leaves it: one more (non-transactional) write there.
    const raw = ((a.Put?.Item ?? a.Delete?.Key) as { sk?: unknown } | undefined)?.sk;
    const sk = typeof raw === 'object' && raw !== null ? (raw as { S?: unknown }).S : raw;
    if (typeof sk === 'string' && sk.startsWith(MEMBERSHIP_SK_PREFIX)) units += 1;
  }
  return units;
}

/**
 * Meters what a DynamoDB client consumes: SDK v3 middleware that asks for
 * `ReturnConsumedCapacity: TOTAL` on every data call and reports each call to `onCall`
 * (DynamoDB Local reports capacity as DynamoDB does, except for transactions:
 * {@link transactionUnits}). A document client built from `client`
 * shares its middleware stack, so its calls are metered too. Used by `npm run bench`.
 */
export function meterCapacity(
  client: DynamoDBClient,
  onCall: (call: MeteredCall) => void,
  opts: { captureBody?: () => boolean } = {},
): void {
  const bodies = new WeakMap<object, string>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const op = (context.commandName ?? '').replace(/Command$/, '');
      const kind = WRITE_OPS.has(op) ? 'write' : READ_OPS.has(op) ? 'read' : undefined;
      if (!kind) return next(args);
      const input = args.input as Record<string, unknown>;
      input.ReturnConsumedCapacity = 'TOTAL';
      const written = kind === 'write' ? countWrites(op, input) : 0;
      const start = performance.now();
      try {
        const out = await next(args);
        const reported = sumUnits((out.output as { ConsumedCapacity?: unknown }).ConsumedCapacity);
        const units = op === 'TransactWriteItems' ? Math.max(reported, transactionUnits(input)) : reported;
        onCall({
          op,
          kind,
          units,
          itemsWritten: written,
          conditionFailed: false,
          ms: performance.now() - start,
          body: bodies.get(context),
        });
        return out;
      } catch (err) {
        const ms = performance.now() - start;
        if ((err as { name?: string })?.name === 'ConditionalCheckFailedException')
          onCall({ op, kind, units: 1, itemsWritten: 0, conditionFailed: true, ms, body: bodies.get(context) });
        throw err;
      }
    },
    { step: 'initialize', name: 'scherpCapacityMeter' },
  );
  const capture = opts.captureBody;
  if (capture) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const body = (args.request as { body?: unknown } | undefined)?.body;
        if (capture() && (typeof body === 'string' || body instanceof Uint8Array))
          bodies.set(context, typeof body === 'string' ? body : new TextDecoder().decode(body));
        return next(args);
      },
      { step: 'build', name: 'scherpCapacityMeterBody' },
    );
  }
}
