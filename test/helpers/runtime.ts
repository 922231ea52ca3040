import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { resolveConfig, startRuntime, type Runtime, type RuntimeOptions } from '../../local/runtime';
import { testEndpoint } from './dynamo';
import { expectStorageInvariants, settle } from './check';

/**
 * The local runtime for one test file: a free port, in memory, on the suite's DynamoDB Local,
 * its own table and data folder (named after `name`), the repository's rules. `opts` win.
 * Its `stop()` first lets the pipeline settle and checks the storage invariants of its table
 * (`test/helpers/check.ts`), computed counts included; a violation fails the test file.
 */
export async function startTestRuntime(name: string, opts: RuntimeOptions = {}): Promise<Runtime> {
  const full: RuntimeOptions = {
    port: 0,
    inMemory: true,
    dynamoEndpoint: testEndpoint(),
    tableName: `${name}-${randomBytes(4).toString('hex')}`,
    dataDir: mkdtempSync(join(tmpdir(), `scherp-${name}-`)),
    rulesDir: join(__dirname, '../../rules'),
    ...opts,
  };
  const rt = await startRuntime(full);
  const stop = async () => {
    let failure: unknown;
    try {
      await settle(rt);
      await expectStorageInvariants(rt.dynamoEndpoint, rt.tableName, { computed: resolveConfig(full).computed });
    } catch (err) {
      failure = err;
    }
    await rt.stop();
    if (failure) throw failure;
  };
  return { ...rt, stop };
}
