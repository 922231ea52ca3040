/** A job worker's dependencies over a test table, as the jobs Lambda and `local/runtime.ts` wire them. */
import { DynamoHistoryStore } from '../../adapters/dynamo/history-store';
import { DynamoJobStore } from '../../adapters/dynamo/job-store';
import { DynamoMembershipStore } from '../../adapters/dynamo/membership-store';
import { DynamoPersonalizationStore } from '../../adapters/dynamo/personalization-store';
import { DynamoProfileScanner } from '../../adapters/dynamo/profile-scanner';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { DynamoRuleStore } from '../../adapters/dynamo/rule-store';
import type { WorkerDeps } from '../../app/jobs';
import { RecordingBus } from './bus';
import type { TestTable } from './dynamo';

/** The table's stores and a recording bus, with `extra` on top (the profile store, page size, files, recompute…). */
export function workerDeps(table: TestTable, extra: Partial<WorkerDeps> = {}): WorkerDeps {
  const { doc, tableName } = table;
  return {
    jobs: new DynamoJobStore(doc, tableName),
    rules: new DynamoRuleStore(doc, tableName),
    scanner: new DynamoProfileScanner(doc, tableName),
    store: new DynamoProfileStore(doc, { tableName }),
    parts: new DynamoPersonalizationStore(doc, tableName),
    history: new DynamoHistoryStore(doc, tableName),
    members: new DynamoMembershipStore(doc, tableName),
    bus: new RecordingBus(),
    ...extra,
  };
}
