import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

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

/**
 * Meters what a DynamoDB client consumes: SDK v3 middleware that asks for
 * `ReturnConsumedCapacity: TOTAL` on every data call and reports each call to `onCall`
 * (DynamoDB Local reports capacity as DynamoDB does). A document client built from `client`
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
        const units = sumUnits((out.output as { ConsumedCapacity?: unknown }).ConsumedCapacity);
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
