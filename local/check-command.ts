/**
 * `scherp check`: the storage invariant checker (`core/invariants.ts`) over a whole table.
 *   scherp check                         the local data directory (.scherp, or SCHERP_DATA_DIR)
 *   scherp check --data-dir DIR          another one (the runtime must not be running on it)
 *   scherp check --endpoint URL --table T  a running DynamoDB Local (or any endpoint)
 *   scherp check --table T               a table in AWS (default credentials and region)
 * Options: `--erased type:value[,type:value…]` checks that nothing names those erased
 * identifiers; `--config FILE` the configuration whose computed `count` traits are compared
 * with the timelines (default scherp.config.json, if present); `--json` prints the report as JSON.
 * Exits 1 when an invariant does not hold.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localDynamoConfig } from '../adapters/dynamo/client';
import { DynamoStorageScanner } from '../adapters/dynamo/storage-scanner';
import { checkStorage } from '../app/check';
import { formatReport } from '../core/invariants';
import { startDynamoLocal, type DynamoLocal } from './dynamodb-local';
import { resolveConfig } from './runtime';

function flag(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function pidAlive(file: string): boolean {
  if (!existsSync(file)) return false;
  try {
    process.kill(Number(readFileSync(file, 'utf8')), 0);
    return true;
  } catch {
    return false;
  }
}

export async function checkCommand(args: readonly string[]): Promise<void> {
  const endpointFlag = flag(args, '--endpoint');
  const tableFlag = flag(args, '--table');
  const config = resolveConfig({ configFile: flag(args, '--config') });
  const erased = (flag(args, '--erased') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.includes(':'));
  let local: DynamoLocal | undefined;
  let client: DynamoDBClient;
  if (endpointFlag) client = new DynamoDBClient(localDynamoConfig(endpointFlag));
  else if (tableFlag && !flag(args, '--data-dir')) client = new DynamoDBClient({});
  else {
    const dataDir = resolve(flag(args, '--data-dir') ?? process.env.SCHERP_DATA_DIR ?? '.scherp');
    if (pidAlive(join(dataDir, 'runtime.pid'))) {
      throw new Error(`a runtime is using ${dataDir}: stop it first, or check its DynamoDB Local with --endpoint URL --table NAME`);
    }
    if (!existsSync(join(dataDir, 'dynamodb'))) throw new Error(`no DynamoDB data in ${dataDir} (start the runtime once, or pass --data-dir)`);
    local = await startDynamoLocal({ dataDir: join(dataDir, 'dynamodb') });
    client = new DynamoDBClient(localDynamoConfig(local.endpoint));
  }
  try {
    const report = await checkStorage(new DynamoStorageScanner(client, tableFlag ?? 'scherp'), { computed: config.computed, erased });
    process.stdout.write((args.includes('--json') ? JSON.stringify(report, null, 2) : formatReport(report)) + '\n');
    if (!report.ok) process.exitCode = 1;
  } finally {
    client.destroy();
    await local?.stop();
  }
}
