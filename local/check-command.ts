/**
 * `scherp check`: the storage invariant checker (`core/invariants.ts`) over a whole table.
 *   scherp check                         the local data directory (.scherp, or SCHERP_DATA_DIR)
 *   scherp check --data-dir DIR          another one (the runtime must not be running on it)
 *   scherp check --endpoint URL --table T  a running DynamoDB Local (or any endpoint)
 *   scherp check --table T               a table in AWS (default credentials and region)
 * CliOptions: `--erased type:value[,type:value…]` checks that nothing names those erased
 * identifiers; `--erased-values v[,v…]` that no item holds those other values of the person
 * (traits they set); `--config FILE` the configuration whose computed `count` traits are compared
 * with the timelines (default scherp.config.json, if present); `--json` prints the report as JSON.
 * Exits 1 when an invariant does not hold.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localDynamoConfig } from '../adapters/dynamo/client';
import { DynamoStorageScanner } from '../adapters/dynamo/storage-scanner';
import { checkStorage } from '../app/check';
import { formatReport } from '../core/invariants';
import { startDynamoLocal, type DynamoLocal } from './dynamodb-local';
import { resolveConfig } from './runtime';
import { liveRuntime } from './runtime-lock';
import { optionValue, type CliOption, type CliOptions } from './cli-usage';

const str = optionValue;

/** The options of `scherp check`, for the command table (`local/cli.ts`). */
export const CHECK_OPTIONS: readonly CliOption[] = [
  {
    name: 'data-dir',
    value: 'DIR',
    help: 'the data folder to check (default SCHERP_DATA_DIR, else .scherp); no runtime may be running on it',
  },
  { name: 'endpoint', value: 'URL', help: 'check a running DynamoDB (Local) at this endpoint instead (with --table)' },
  { name: 'table', value: 'NAME', help: 'the table (default scherp); alone: a table in AWS with the default credentials and region' },
  { name: 'erased', value: 'TYPE:VALUE,…', help: 'erased identifiers: check that nothing names them any more' },
  {
    name: 'erased-values',
    value: 'VALUE,…',
    help: 'other values of an erased person (traits they set): check that no item holds them (any case, inside any text)',
  },
  {
    name: 'config',
    value: 'FILE',
    help: 'the configuration whose computed count traits are compared with the timelines (default scherp.config.json)',
  },
  { name: 'json', help: 'print the report as JSON' },
];

export async function checkCommand(o: CliOptions): Promise<void> {
  const endpointFlag = str(o, 'endpoint');
  const tableFlag = str(o, 'table');
  const config = resolveConfig({ configFile: str(o, 'config') });
  const erased = (str(o, 'erased') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.includes(':'));
  const erasedValues = (str(o, 'erased-values') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  let local: DynamoLocal | undefined;
  let client: DynamoDBClient;
  if (endpointFlag) client = new DynamoDBClient(localDynamoConfig(endpointFlag));
  else if (tableFlag && !str(o, 'data-dir')) client = new DynamoDBClient({});
  else {
    const dataDir = resolve(str(o, 'data-dir') ?? process.env.SCHERP_DATA_DIR ?? '.scherp');
    const live = liveRuntime(dataDir);
    if (live) {
      throw new Error(
        `a runtime is using ${dataDir} (pid ${live.pid}${live.url ? `, ${live.url}` : ''}): stop it first, or check its DynamoDB Local with --endpoint URL --table NAME`,
      );
    }
    if (!existsSync(join(dataDir, 'dynamodb')))
      throw new Error(`no DynamoDB data in ${dataDir} (start the runtime once, or pass --data-dir)`);
    local = await startDynamoLocal({ dataDir: join(dataDir, 'dynamodb') });
    client = new DynamoDBClient(localDynamoConfig(local.endpoint));
  }
  try {
    const report = await checkStorage(new DynamoStorageScanner(client, tableFlag ?? 'scherp'), {
      computed: config.computed,
      erased,
      ...(erasedValues.length > 0 ? { erasedValues } : {}),
    });
    process.stdout.write(`${o.json === true ? JSON.stringify(report, null, 2) : formatReport(report)}\n`);
    if (!report.ok) process.exitCode = 1;
  } finally {
    client.destroy();
    await local?.stop();
  }
}
