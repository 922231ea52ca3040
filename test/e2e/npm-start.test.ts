/**
 * End to end, as a user runs it: the `scherp start` command (what `npm start` runs) on a random
 * port, in memory, with its own DynamoDB Local; a batch in over HTTP; the profile back through
 * the read API; the action out on the bus.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../helpers/dynamo';

const root = join(__dirname, '../..');
let child: ChildProcess;
let url: string;
let keys: { write: string; read: string; admin: string };
let output = '';
const dataDir = mkdtempSync(join(tmpdir(), 'scherp-e2e-'));

beforeAll(async () => {
  child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'local/cli.ts'), 'start', '--in-memory', '--port', '0', '--data-dir', dataDir],
    {
      cwd: root,
      env: { ...process.env, SCHERP_WRITE_KEY: '', SCHERP_READ_KEY: '', SCHERP_ADMIN_KEY: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  url = await eventually(() => /SCHERP_READY (\S+)/.exec(output)?.[1], 90_000);
  keys = {
    write: /write key:\s+(\S+)/.exec(output)![1]!,
    read: /read key:\s+(\S+)/.exec(output)![1]!,
    admin: /admin key:\s+(\S+)/.exec(output)![1]!,
  };
}, 120_000);

afterAll(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await exited;
  }
});

const basic = (k: string) => `Basic ${Buffer.from(`${k}:`).toString('base64')}`;

describe('npm start (end to end)', () => {
  it('prints generated keys and a working curl example', () => {
    expect(keys.write).toMatch(/^[0-9a-f]{32}$/);
    expect(output).toContain(`curl -s ${url}/v1/track`);
  });

  it('a batch flows through ingest, stitch, store, rule and bus', async () => {
    const res = await fetch(`${url}/v1/batch`, {
      method: 'POST',
      headers: { authorization: basic(keys.write), 'content-type': 'application/json' },
      body: JSON.stringify({
        batch: [
          { type: 'identify', userId: 'e2e-user', anonymousId: 'e2e-anon', traits: { name: 'Ada', plan: 'pro' } },
          { type: 'track', anonymousId: 'e2e-anon', event: 'Order Completed', properties: { revenue: 250, order_id: 'o-1' } },
          { type: 'track', userId: 'e2e-user', event: 'Order Completed', properties: { revenue: 20 } },
        ],
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true });

    const profile = await eventually(async () => {
      const r = await fetch(`${url}/v1/profiles/user_id:e2e-user`, { headers: { authorization: basic(keys.read) } });
      return r.status === 200
        ? ((await r.json()) as { id: string; identifiers: string[]; traits: Record<string, { value: unknown }> })
        : undefined;
    });
    expect(profile.identifiers).toEqual(['anonymous_id:e2e-anon', 'user_id:e2e-user']);
    expect(profile.traits.name!.value).toBe('Ada');

    const busFile = join(dataDir, 'bus.jsonl');
    const actions = await eventually(() => {
      if (!existsSync(busFile)) return undefined;
      const lines = readFileSync(busFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      return lines.length > 0 ? lines : undefined;
    });
    // Let any wrongly fired action for the 20-revenue order arrive before counting.
    await new Promise((r) => setTimeout(r, 500));
    const all = readFileSync(busFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(all).toHaveLength(1);
    // Bus contract v1: every rule action is an `Action Triggered` naming the action.
    expect(actions[0]).toMatchObject({
      source: 'scherp',
      'detail-type': 'Action Triggered',
      detail: { version: '1', action: 'High Value Order', profileId: profile.id, data: { revenue: 250 }, ruleId: 'high-value-order' },
    });
    expect(output).toContain('[bus] Action Triggered');
  });

  it('the write key cannot read profiles, and bad input gets a 4xx naming the problem', async () => {
    const r = await fetch(`${url}/v1/profiles/user_id:e2e-user`, { headers: { authorization: basic(keys.write) } });
    expect(r.status).toBe(401);
    const bad = await fetch(`${url}/v1/track`, { method: 'POST', headers: { authorization: basic(keys.write) }, body: '{"userId":' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/JSON/);
    const none = await fetch(`${url}/v1/track`, { method: 'POST', body: '{"userId":"u","event":"e"}' });
    expect(none.status).toBe(401);
  });

  it('`scherp smoke` against it (keys from flags, the local bucket folder) passes every step', async () => {
    const smoke = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'local/cli.ts'),
        'smoke',
        '--url',
        url,
        '--write-key',
        keys.write,
        '--read-key',
        keys.read,
        '--admin-key',
        keys.admin,
        '--bucket-dir',
        join(dataDir, 'bucket'),
        '--timeout',
        '60',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    smoke.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    smoke.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => smoke.once('exit', r));
    expect(out).toMatch(/✓ plain event/);
    for (const step of ['gzip event', 'beacon', 'profile read back', 'delayed action', 'file import', 'clean up'])
      expect(out).toContain(`✓ ${step}:`);
    expect(out).toContain('as application/json: 400 with the reason');
    expect(out).toContain('all 7 steps worked');
    expect(code).toBe(0);
  }, 120_000);

  it('stops cleanly on Ctrl-C, DynamoDB Local included', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
