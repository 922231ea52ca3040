/**
 * Crash safety of the persistent local runtime: a `scherp start` process killed with SIGKILL in
 * the middle of a load, restarted on the same data directory, loses nothing it answered 200 to.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient, localDynamoConfig } from '../../adapters/dynamo/client';
import { decodeEvent } from '../../adapters/dynamo/event-codec';
import { resolveConfig, startRuntime, type Runtime } from '../../local/runtime';
import { eventually } from '../helpers/dynamo';
import { expectStorageInvariants, settle } from '../helpers/check';

const root = join(__dirname, '../..');
const dataDir = mkdtempSync(join(tmpdir(), 'scherp-crash-'));
const keys = { SCHERP_WRITE_KEY: 'crash-write', SCHERP_READ_KEY: 'crash-read', SCHERP_ADMIN_KEY: 'crash-admin' };
let restarted: Runtime | undefined;

afterAll(async () => {
  try {
    // The storage invariants hold after the crash and the restart (test/helpers/check.ts).
    if (restarted) {
      await settle(restarted);
      await expectStorageInvariants(restarted.dynamoEndpoint, restarted.tableName, { computed: resolveConfig({}).computed });
    }
  } finally {
    await restarted?.stop();
  }
});

function startProcess(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'local/cli.ts'), 'start', '--port', '0', '--data-dir', dataDir], {
    cwd: root,
    env: { ...process.env, ...keys },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return eventually(() => /SCHERP_READY (\S+)/.exec(out)?.[1], 90_000).then((url) => ({ child, url }));
}

async function storedMessageIds(rt: Runtime): Promise<string[]> {
  const doc = documentClient(localDynamoConfig(rt.dynamoEndpoint));
  const ids: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new ScanCommand({ TableName: rt.tableName, ExclusiveStartKey: start }));
    for (const it of page.Items ?? []) if (String(it.sk).startsWith('EV#')) ids.push(decodeEvent(it as { d: Uint8Array }).messageId);
    start = page.LastEvaluatedKey;
  } while (start);
  doc.destroy();
  return ids;
}

it('SIGKILL mid-load and a restart lose no acknowledged event', async () => {
  const { child, url } = await startProcess();
  const auth = `Basic ${Buffer.from(`${keys.SCHERP_WRITE_KEY}:`).toString('base64')}`;
  const acked: string[] = [];
  let killed = false;
  let sent = 0;

  // Four clients post batches of ten until the process dies under them.
  const client = async (c: number) => {
    for (let b = 0; !killed && b < 200; b++) {
      const ids = Array.from({ length: 10 }, (_, i) => `crash-${c}-${b}-${i}`);
      sent += ids.length;
      try {
        const res = await fetch(`${url}/v1/batch`, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/json' },
          body: JSON.stringify({
            batch: ids.map((messageId, i) => ({
              type: 'track',
              messageId,
              anonymousId: `crash-anon-${c}-${i % 3}`,
              event: 'Product Viewed',
            })),
          }),
        });
        if (res.status === 200) acked.push(...ids);
      } catch {
        return; // connection cut by the kill: not acknowledged
      }
    }
  };
  const load = Promise.all([0, 1, 2, 3].map(client));
  await eventually(() => (acked.length >= 300 ? true : undefined), 60_000, 5);
  child.kill('SIGKILL');
  killed = true;
  await load;
  expect(acked.length).toBeGreaterThanOrEqual(300);

  // The kill left acknowledged events in the queue's journal (not yet stored): the path under test.
  const journal = readFileSync(join(dataDir, 'queue.jsonl'), 'utf8').split('\n').filter(Boolean);
  const sends = journal.filter((l) => l.startsWith('{"op":"send"')).length;
  const dels = journal.filter((l) => l.startsWith('{"op":"del"')).length;
  expect(sends - dels).toBeGreaterThan(0);

  restarted = await startRuntime({
    port: 0,
    dataDir,
    keys: { write: keys.SCHERP_WRITE_KEY, read: keys.SCHERP_READ_KEY, admin: keys.SCHERP_ADMIN_KEY },
  });
  const stored = await eventually(
    async () => {
      const ids = await storedMessageIds(restarted!);
      const have = new Set(ids);
      return acked.every((id) => have.has(id)) && restarted!.queue.depth === 0 ? ids : undefined;
    },
    60_000,
    250,
  );
  // Nothing acknowledged is missing, and nothing is stored twice.
  expect(new Set(stored).size).toBe(stored.length);
  expect(stored.length).toBeGreaterThanOrEqual(acked.length);
  expect(stored.length).toBeLessThanOrEqual(sent);
}, 180_000);
