/**
 * The local traps, through the real command line (`bin/scherp.js`, what `npx scherp` runs, and
 * `local/cli.ts start`, what `npm start` runs): help starts nothing; a second start on a data
 * folder in use is refused and leaves the first one working; `dlq --data-dir` talks to the
 * runtime owning the folder and says where a refused key came from; a file dropped into the
 * default `.scherp/bucket/imports/<source>/` folder is imported, a symbolic link is not;
 * `--in-memory` leaves nothing behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { eventually } from '../helpers/dynamo';

const root = join(__dirname, '../..');
const bin = join(root, 'bin/scherp.js');
/** `local/cli.ts` as `npm start` runs it (tsx resolved from the repository, whatever the working folder). */
const cli = ['--import', pathToFileURL(require.resolve('tsx')).href, join(root, 'local/cli.ts')];
const work: string[] = [];
const children: ChildProcess[] = [];
/** A fresh working folder (the user's project folder), with the repository's rules. */
const folder = () => {
  const d = mkdtempSync(join(tmpdir(), 'scherp-cli-'));
  symlinkSync(join(root, 'rules'), join(d, 'rules'));
  work.push(d);
  return d;
};
const env = (extra: Record<string, string> = {}) => {
  const e: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of ['SCHERP_DATA_DIR', 'SCHERP_WRITE_KEY', 'SCHERP_READ_KEY', 'SCHERP_ADMIN_KEY', 'PORT']) if (!(k in extra)) delete e[k];
  return e;
};

/**
 * Runs a command to its end (asynchronously: a blocked event loop would let `fetch` reuse a
 * connection the runtime closed meanwhile).
 */
function run(
  command: string,
  args: string[],
  cwd: string,
  extra: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `npx scherp …` */
const scherp = (args: string[], cwd: string, extra: Record<string, string> = {}) => run(process.execPath, [bin, ...args], cwd, extra);

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
  stop(): Promise<number | null>;
}

async function start(args: string[], cwd: string): Promise<Started> {
  const child = spawn(process.execPath, [...cli, 'start', '--port', '0', ...args], { cwd, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await eventually(() => {
    if (child.exitCode !== null) throw new Error(`scherp start exited ${child.exitCode}: ${out}`);
    return /SCHERP_READY (\S+)/.exec(out)?.[1];
  }, 90_000);
  return {
    child,
    url,
    output: () => out,
    stop: () => {
      if (child.exitCode !== null) return Promise.resolve(child.exitCode);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGINT');
      return exited;
    },
  };
}

afterAll(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGINT');
      await exited;
    }
  }
  for (const d of work) rmSync(d, { recursive: true, force: true });
});

const basic = (k: string) => `Basic ${Buffer.from(`${k}:`).toString('base64')}`;

describe('help', () => {
  it.each([[[]], [['--help']], [['-h']], [['help']]])(
    'npx scherp %j prints the usage of every command and starts nothing',
    async (args) => {
      const cwd = folder();
      const r = await scherp(args, cwd);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: scherp <command>/);
      for (const c of ['start', 'dlq', 'import']) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
      expect(r.stdout).not.toContain('SCHERP_READY');
      expect(readdirSync(cwd)).toEqual(['rules']);
    },
  );

  it.each(['start', 'dlq', 'import'])("npx scherp %s --help (and -h) prints that command's options and does nothing", async (cmd) => {
    const cwd = folder();
    for (const flag of ['--help', '-h']) {
      const r = await scherp([cmd, flag], cwd);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: scherp ${cmd}`));
      expect(r.stdout).toContain('--data-dir DIR');
    }
    expect(readdirSync(cwd)).toEqual(['rules']);
  });

  it('npm start -- --help prints the start options and starts nothing', async () => {
    const r = await run('npm', ['start', '--silent', '--', '--help'], root);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: scherp start');
    expect(r.stdout).toContain('--in-memory');
    expect(r.stdout).not.toContain('SCHERP_READY');
  });

  it('an unknown option or command is refused with the usage', async () => {
    const cwd = folder();
    const bad = await scherp(['start', '--prot', '9000'], cwd);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--prot'");
    expect(bad.stderr).toContain('Usage: scherp start');
    const unknown = await scherp(['strat'], cwd);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command: strat');
    expect(readdirSync(cwd)).toEqual(['rules']);
  });
});

describe('a runtime on the default data folder (.scherp/ in the working folder)', () => {
  let cwd: string;
  let rt: Started;
  let keys: { write: string; read: string; admin: string };
  beforeAll(async () => {
    cwd = folder();
    rt = await start([], cwd);
    keys = JSON.parse(readFileSync(join(cwd, '.scherp', 'keys.json'), 'utf8'));
  }, 120_000);
  afterAll(async () => {
    await rt.stop();
  });

  it('a second start on the same folder is refused, naming --data-dir and --port, and the first keeps working', async () => {
    for (const second of [
      await run(process.execPath, [...cli, 'start', '--port', '0'], cwd),
      await scherp(['start', '--port', '0', '--data-dir', join(cwd, '.scherp')], folder()),
    ]) {
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`${join(cwd, '.scherp')} is in use by a running Scherp (pid ${rt.child.pid}, ${rt.url})`);
      expect(second.stderr).toMatch(/--data-dir .* --port/);
      expect(second.stdout).not.toContain('SCHERP_READY');
    }
    // The first one's DynamoDB Local was not touched: events still go in and come out.
    const res = await fetch(`${rt.url}/v1/identify`, {
      method: 'POST',
      headers: { authorization: basic(keys.write) },
      body: JSON.stringify({ userId: 'cli-second', traits: { plan: 'pro' } }),
    });
    expect(res.status).toBe(200);
    const profile = await eventually(async () => {
      const r = await fetch(`${rt.url}/v1/profiles/user_id:cli-second`, { headers: { authorization: basic(keys.read) } });
      return r.status === 200 ? ((await r.json()) as { traits: Record<string, { value: unknown }> }) : undefined;
    });
    expect(profile.traits.plan!.value).toBe('pro');
  });

  it('npx scherp dlq list --data-dir talks to the runtime owning the folder; a refused key says where it came from', async () => {
    const elsewhere = folder();
    const ok = await scherp(['dlq', 'list', '--data-dir', join(cwd, '.scherp')], elsewhere);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const bad = await scherp(['dlq', 'list', '--data-dir', join(cwd, '.scherp')], elsewhere, { SCHERP_ADMIN_KEY: 'not-the-key' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${rt.url}: 401`);
    expect(bad.stderr).toContain('the admin key was taken from SCHERP_ADMIN_KEY');
  });

  it('npx scherp import sends to the runtime owning the data folder, with its keys.json; a refused key says so', async () => {
    const elsewhere = folder();
    writeFileSync(join(elsewhere, 'people.csv'), 'email,plan\ncli-import@example.com,pro\n');
    const ok = await scherp(['import', 'people.csv', '--source', 'default', '--data-dir', join(cwd, '.scherp')], elsewhere);
    expect(ok.stdout).toContain('imported: 1 rows, errors: 0');
    expect(ok.code).toBe(0);
    const bad = await scherp(['import', 'people.csv', '--source', 'default', '--data-dir', join(cwd, '.scherp')], elsewhere, {
      SCHERP_ADMIN_KEY: 'not-the-key',
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${rt.url}: import refused (401)`);
    expect(bad.stderr).toContain('the admin key was taken from SCHERP_ADMIN_KEY');
  });

  it('each source has its folder; a file dropped into the default .scherp/bucket/imports/<source>/ is imported; a link is not', async () => {
    const imports = join(cwd, '.scherp', 'bucket', 'imports');
    expect(existsSync(join(imports, 'default'))).toBe(true);
    const created = await fetch(`${rt.url}/v1/sources`, {
      method: 'POST',
      headers: { authorization: basic(keys.admin) },
      body: JSON.stringify({ name: 'crm', party: 'second' }),
    });
    expect(created.status).toBe(201);
    expect(existsSync(join(imports, 'crm'))).toBe(true);

    writeFileSync(join(imports, 'crm', 'people.csv'), 'email,tier\ncli-drop@example.com,gold\n');
    const outside = folder();
    writeFileSync(join(outside, 'secret.csv'), 'email,tier\ncli-secret@example.com,x\n');
    symlinkSync(join(outside, 'secret.csv'), join(imports, 'crm', 'linked.csv'));

    const reportFile = join(cwd, '.scherp', 'bucket', 'reports', 'crm', 'people.csv.json');
    const report = await eventually(() => {
      if (!existsSync(reportFile)) return undefined;
      const r = JSON.parse(readFileSync(reportFile, 'utf8')) as { status: string; imported: number };
      return r.status === 'done' ? r : undefined;
    }, 30_000);
    expect(report).toMatchObject({ status: 'done', imported: 1 });
    const profile = await eventually(async () => {
      const r = await fetch(`${rt.url}/v1/profiles/email:cli-drop@example.com`, { headers: { authorization: basic(keys.read) } });
      return r.status === 200 ? ((await r.json()) as { traits: Record<string, { value: unknown }> }) : undefined;
    });
    expect(profile.traits.tier!.value).toBe('gold');

    await eventually(() => (rt.output().includes('imports/crm/linked.csv is not imported') ? true : undefined), 30_000);
    expect(rt.output()).toContain('symbolic link');
    expect(existsSync(join(cwd, '.scherp', 'bucket', 'reports', 'crm', 'linked.csv.json'))).toBe(false);
    expect(readdirSync(outside).sort()).toEqual(['rules', 'secret.csv']);
    const secret = await fetch(`${rt.url}/v1/profiles/email:cli-secret@example.com`, { headers: { authorization: basic(keys.read) } });
    expect(secret.status).toBe(404);
  });
});

it('--in-memory leaves nothing in the working folder and removes its temporary folder at stop', async () => {
  const cwd = folder();
  const rt = await start(['--in-memory'], cwd);
  const files = /files in (\S+) \(removed at stop\)/.exec(rt.output())?.[1];
  expect(files).toBeDefined();
  expect(existsSync(join(files!, 'bucket', 'imports', 'default'))).toBe(true);
  // Something in every file the runtime writes: the bus (an order over 100), a rejected event.
  const write = /write key:\s+(\S+)/.exec(rt.output())![1]!;
  const post = (path: string, body: unknown) =>
    fetch(`${rt.url}${path}`, { method: 'POST', headers: { authorization: basic(write) }, body: JSON.stringify(body) });
  expect((await post('/v1/track', { userId: 'mem-1', event: 'Order Completed', properties: { revenue: 500 } })).status).toBe(200);
  expect((await post('/v1/track', { userId: 'mem-1' })).status).toBe(400);
  await eventually(() => (existsSync(join(files!, 'bus.jsonl')) ? true : undefined));
  expect(await rt.stop()).toBe(0);
  expect(readdirSync(cwd)).toEqual(['rules']);
  expect(existsSync(files!)).toBe(false);
}, 120_000);
