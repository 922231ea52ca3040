/**
 * The storage invariant checker in tests: `startTestRuntime` and `createTestTable` run it in
 * their teardown (`stop()`, `drop()`), so every integration, end-to-end and chaos test ends with
 * the whole table checked (`core/invariants.ts`). Erasure tests also call it with the erased
 * identifiers.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localDynamoConfig } from '../../adapters/dynamo/client';
import { DynamoStorageScanner } from '../../adapters/dynamo/storage-scanner';
import { checkStorage } from '../../app/check';
import { formatReport, type CheckOptions, type CheckReport } from '../../core/invariants';
import type { Runtime } from '../../local/runtime';

/** Checks the table; throws with the report when an invariant does not hold. */
export async function expectStorageInvariants(endpoint: string, tableName: string, opts: CheckOptions = {}): Promise<CheckReport> {
  const client = new DynamoDBClient(localDynamoConfig(endpoint));
  try {
    const report = await checkStorage(new DynamoStorageScanner(client, tableName), opts);
    if (!report.ok) {
      // A known race, named so that a failure points at it (never hidden): a stitch attempt that
      // creates a profile and then loses the identity claim leaves that root behind.
      const race = report.violations.some((v) => v.invariant === 'orphan_root')
        ? '\n(orphan roots are what a stitch attempt leaves when it creates a profile and then loses the identity claim to a concurrent event: issue 18 item 4, app/stitch.ts)'
        : '';
      throw new Error(`storage invariants of table ${tableName} do not hold:\n${formatReport(report)}${race}`);
    }
    return report;
  } finally {
    client.destroy();
  }
}

/**
 * Waits until the runtime's pipeline has settled: the queue is empty, then the stream has caught
 * up. Delayed actions may still be pending (a rule may wait for days); they change no invariant.
 */
export async function settle(rt: Pick<Runtime, 'queue' | 'stream'>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const until = async (cond: () => boolean, what: string) => {
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`the pipeline did not settle within ${timeoutMs} ms (${what})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await until(() => rt.queue.depth === 0, `${rt.queue.depth} queued messages left`);
  const at = Date.now();
  await until(() => rt.stream.idleSince > at, 'the stream has not caught up');
}
