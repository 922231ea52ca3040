/**
 * Fault injection for the local runtime and the chaos tests. Faults wrap the AWS SDK client (as
 * middleware) and the ports; no domain code knows about them.
 *
 * - DynamoDB transaction conflicts: a merge's TransactWriteItems cancelled, as when another
 *   writer touched one of its items.
 * - DynamoDB throttling and 5xx: thrown before the request is sent, inside the SDK's retry loop
 *   (so the SDK's own retries see them, as in the cloud); what survives reaches the handler.
 * - DynamoDB timeouts: the request IS executed, then the response is lost (the caller sees an
 *   error for a write that happened: the case idempotency must survive).
 * - Crashes: a handler invocation dies after k of its writes.
 * - Bus failures: a publish fails (as PutEvents does after its entry retries run out).
 * - Duplicate deliveries: the local queue and stream deliver some records twice.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';
import type { Bus, BusEntry } from '../app/ports';

export interface FaultPlan {
  /** Fraction of DynamoDB calls that fail with a throttling error. */
  readonly throttle?: number;
  /** Fraction of DynamoDB calls that fail with a 500. */
  readonly serverError?: number;
  /** Fraction of DynamoDB calls whose response is lost after the call took effect. */
  readonly timeout?: number;
  /** Fraction of DynamoDB writes after which the invocation "crashes". */
  readonly crash?: number;
  /** Fraction of transactions (merges) cancelled by a conflicting concurrent write. */
  readonly transactionConflict?: number;
  /** Fraction of bus publishes that fail. */
  readonly busFailure?: number;
  /** Fraction of queue and stream deliveries repeated. */
  readonly duplicate?: number;
  /** Seed for the fault dice, so a run can be repeated. @default 1 */
  readonly seed?: number;
}

/** A small seeded PRNG (mulberry32): faults are reproducible for a seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class InjectedFault extends Error {
  constructor(
    name: string,
    message: string,
    readonly $metadata: { httpStatusCode: number } = { httpStatusCode: 500 },
  ) {
    super(message);
    this.name = name;
  }
}

export interface FaultCounters {
  throttle: number;
  serverError: number;
  transactionConflict: number;
  timeout: number;
  crash: number;
  busFailure: number;
  duplicate: number;
}

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'TransactWriteItemsCommand']);

export class FaultInjector {
  readonly counters: FaultCounters = {
    throttle: 0,
    serverError: 0,
    transactionConflict: 0,
    timeout: 0,
    crash: 0,
    busFailure: 0,
    duplicate: 0,
  };
  /**
   * One die per fault kind: how often a kind fires depends only on how many occasions it had,
   * not on how concurrent work interleaved its rolls with other kinds' (a shared die let a rare
   * kind, such as bus failures, go uninjected in a run for some interleavings).
   */
  private readonly dice = new Map<keyof FaultCounters, () => number>();

  constructor(public plan: FaultPlan) {}

  roll(kind: keyof FaultCounters, rate: number | undefined): boolean {
    if (!rate) return false;
    let die = this.dice.get(kind);
    if (!die) {
      die = seededRandom((this.plan.seed ?? 1) * 31 + Object.keys(this.counters).indexOf(kind));
      this.dice.set(kind, die);
    }
    if (die() >= rate) return false;
    this.counters[kind]++;
    return true;
  }

  /** Adds the DynamoDB faults to a client. */
  instrument(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (this.roll('throttle', this.plan.throttle)) {
          throw Object.assign(new InjectedFault('ThrottlingException', 'injected throttling', { httpStatusCode: 400 }), {
            $retryable: { throttling: true },
          });
        }
        if (this.roll('serverError', this.plan.serverError)) throw new InjectedFault('InternalServerError', 'injected 500');
        if (context.commandName === 'TransactWriteItemsCommand' && this.roll('transactionConflict', this.plan.transactionConflict)) {
          // What DynamoDB answers when another request touched one of the items meanwhile.
          throw Object.assign(
            new InjectedFault(
              'TransactionCanceledException',
              'Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]',
              { httpStatusCode: 400 },
            ),
            {
              CancellationReasons: [{ Code: 'TransactionConflict', Message: 'injected conflict' }],
            },
          );
        }
        const result = await next(args);
        const isWrite = WRITES.has(context.commandName ?? '');
        const lost = this.roll('timeout', this.plan.timeout)
          ? 'timeout'
          : isWrite && this.roll('crash', this.plan.crash)
            ? 'crash'
            : undefined;
        if (!lost) return result;
        // The response is dropped unread: release its socket, or the connection pool runs dry.
        (result.response as { body?: { destroy?: () => void } }).body?.destroy?.();
        if (lost === 'timeout') throw new InjectedFault('TimeoutError', 'injected timeout after the call took effect');
        throw new InjectedFault('InjectedCrash', 'injected crash after a write');
      },
      // Inside the SDK's retry loop, like a real network or service fault.
      { step: 'deserialize', name: 'scherpFaultInjection', priority: 'low' },
    );
  }

  /**
   * The SDK's retry policy for a faulty run: the standard one (three attempts, retryable errors
   * only) with millisecond backoffs, so a chaos test is bounded in time (the standard backoff
   * for throttling starts at 500 ms and grows to 20 s).
   */
  static retryStrategy(maxAttempts = 3, delayMs = 2): RetryStrategyV2 {
    const token = (count: number): RetryToken => ({ getRetryCount: () => count, getRetryDelay: () => delayMs * 2 ** count });
    return {
      acquireInitialRetryToken: async () => token(0),
      refreshRetryTokenForRetry: async (t: RetryToken, info: RetryErrorInfo) => {
        if (info.errorType === 'CLIENT_ERROR' || t.getRetryCount() + 1 >= maxAttempts) throw new Error('no retry');
        return token(t.getRetryCount() + 1);
      },
      recordSuccess: () => undefined,
    };
  }

  /** A bus whose publishes sometimes fail. */
  bus(inner: Bus): Bus {
    return {
      publish: async (entries: readonly BusEntry[]) => {
        if (this.roll('busFailure', this.plan.busFailure)) throw new InjectedFault('EventBridgeFailure', 'injected PutEvents failure');
        await inner.publish(entries);
      },
    };
  }

  /** Whether to deliver a record twice. */
  duplicate(): boolean {
    return this.roll('duplicate', this.plan.duplicate);
  }
}
