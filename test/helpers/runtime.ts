import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startRuntime, type Runtime, type RuntimeOptions } from '../../local/runtime';
import { testEndpoint } from './dynamo';

/**
 * The local runtime for one test file: a free port, in memory, on the suite's DynamoDB Local,
 * its own table and data folder (named after `name`), the repository's rules. `opts` win.
 */
export function startTestRuntime(name: string, opts: RuntimeOptions = {}): Promise<Runtime> {
  return startRuntime({
    port: 0,
    inMemory: true,
    dynamoEndpoint: testEndpoint(),
    tableName: `${name}-${randomBytes(4).toString('hex')}`,
    dataDir: mkdtempSync(join(tmpdir(), `scherp-${name}-`)),
    rulesDir: join(__dirname, '../../rules'),
    ...opts,
  });
}
