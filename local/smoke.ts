/**
 * `scherp smoke`: checks a deployed (or local) Scherp end to end, as a user would after the first
 * deploy, and says what worked:
 *   1. a plain JSON event and 2. a gzip one (sent as `application/octet-stream`, the way gzip
 *   reaches a function through an HTTP API; the same body as `application/json` is checked to be
 *   refused with the reason, not silently lost), 3. a beacon (text/plain, key in the body, as
 *   analytics.js sends it), 4. the profile read back with all three, 5. a delayed action (a
 *   temporary rule whose trait action runs 5 s after its event), 6. a file dropped into the
 *   import bucket and its report; then the temporary rule and the test profile are removed.
 *
 * Keys come from flags (or `SCHERP_*_KEY`), or from the stack's Secrets Manager secrets
 * (`--stack NAME`: the secrets CloudFormation tagged with the stack name). The bucket is S3
 * (`--bucket NAME`, the `ImportBucketName` output) or the local folder (`--bucket-dir DIR`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { optionValue, type CliOption, type CliOptions } from './cli-usage';
import { IMPORTS_PREFIX, REPORTS_PREFIX, type ImportReport } from '../core/import-job';

export interface SmokeKeys {
  readonly write: string;
  readonly read: string;
  readonly admin: string;
}

/** Where the import file goes and its report comes from. */
export interface SmokeBucket {
  put(key: string, text: string): Promise<void>;
  /** The JSON at `key`, undefined while it does not exist. */
  getJson<T>(key: string): Promise<T | undefined>;
}

export interface SmokeOptions {
  /** The API's base URL (the `ApiUrl` output). */
  readonly url: string;
  readonly keys: SmokeKeys;
  /** Without one the import step is skipped. */
  readonly bucket?: SmokeBucket;
  /** How long to wait for each asynchronous result. @default 120 s */
  readonly timeoutMs?: number;
  /** Told of each step as it ends. */
  readonly onStep?: (step: SmokeStep) => void;
}

export interface SmokeStep {
  readonly name: string;
  readonly status: 'ok' | 'failed' | 'skipped';
  readonly detail: string;
}

export class FolderBucket implements SmokeBucket {
  constructor(private readonly root: string) {}
  async put(key: string, text: string): Promise<void> {
    const file = join(this.root, ...key.split('/'));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  async getJson<T>(key: string): Promise<T | undefined> {
    const file = join(this.root, ...key.split('/'));
    if (!existsSync(file)) return undefined;
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as T;
    } catch {
      return undefined; // being written
    }
  }
}

export class S3Bucket implements SmokeBucket {
  constructor(
    private readonly s3: S3Client,
    private readonly name: string,
  ) {}
  async put(key: string, text: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.name, Key: key, Body: text, ContentType: 'application/x-ndjson' }));
  }
  async getJson<T>(key: string): Promise<T | undefined> {
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: this.name, Key: key }));
      return JSON.parse(await r.Body!.transformToString()) as T;
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }
}

/** The three bootstrap keys from the secrets of a deployed stack (tagged by CloudFormation). */
export async function keysFromStack(sm: SecretsManagerClient, stackName: string): Promise<SmokeKeys> {
  const found: Partial<Record<keyof SmokeKeys, string>> = {};
  let token: string | undefined;
  do {
    const r = await sm.send(
      new ListSecretsCommand({
        Filters: [
          { Key: 'tag-key', Values: ['aws:cloudformation:stack-name'] },
          { Key: 'tag-value', Values: [stackName] },
        ],
        NextToken: token,
      }),
    );
    for (const s of r.SecretList ?? []) {
      const role = /^Scherp (write|read|admin) key/.exec(s.Description ?? '')?.[1] as keyof SmokeKeys | undefined;
      if (role && s.ARN) found[role] = s.ARN;
    }
    token = r.NextToken;
  } while (token);
  const missing = (['write', 'read', 'admin'] as const).filter((k) => !found[k]);
  if (missing.length > 0)
    throw new Error(`stack ${stackName}: no secret for the ${missing.join(', ')} key (pass --write-key, --read-key and --admin-key)`);
  const value = async (arn: string) => (await sm.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString ?? '';
  return { write: await value(found.write!), read: await value(found.read!), admin: await value(found.admin!) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function poll<T>(timeoutMs: number, everyMs: number, check: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) return undefined;
    await sleep(everyMs);
  }
}

interface ProfileView {
  readonly id: string;
  readonly traits: Record<string, { value: unknown }>;
}

/** Runs every step (a failed step does not stop the others) and gives what each did. */
export async function runSmoke(opts: SmokeOptions): Promise<SmokeStep[]> {
  const base = opts.url.replace(/\/+$/, '');
  const timeout = opts.timeoutMs ?? 120_000;
  const run = randomBytes(4).toString('hex');
  const userId = `scherp-smoke-${run}`;
  const ruleId = `scherp-smoke-delayed-${run}`;
  const basic = `Basic ${Buffer.from(`${opts.keys.write}:`).toString('base64')}`;
  const steps: SmokeStep[] = [];
  const step = async (name: string, body: () => Promise<string>) => {
    let s: SmokeStep;
    try {
      s = { name, status: 'ok', detail: await body() };
    } catch (err) {
      s = { name, status: (err as { skipped?: boolean }).skipped ? 'skipped' : 'failed', detail: (err as Error).message };
    }
    steps.push(s);
    opts.onStep?.(s);
  };
  const expectStatus = async (res: Response, want: number, what: string) => {
    if (res.status !== want) throw new Error(`${what}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
  };
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${opts.keys.admin}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const profile = async (): Promise<ProfileView | undefined> => {
    const r = await fetch(`${base}/v1/profiles/user_id:${encodeURIComponent(userId)}`, {
      headers: { authorization: `Bearer ${opts.keys.read}` },
    });
    return r.status === 200 ? ((await r.json()) as ProfileView) : undefined;
  };
  const profileWith = (trait: string) =>
    poll(timeout, 1000, async () => ((await profile())?.traits[trait] ? (await profile())! : undefined));

  await step('plain event', async () => {
    const res = await fetch(`${base}/v1/identify`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/json' },
      body: JSON.stringify({ userId, traits: { smoke_plain: run } }),
    });
    await expectStatus(res, 200, 'POST /v1/identify');
    return 'POST /v1/identify with a JSON body: 200';
  });

  await step('gzip event', async () => {
    const body = gzipSync(JSON.stringify({ userId, traits: { smoke_gzip: run } }));
    const res = await fetch(`${base}/v1/identify`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/octet-stream', 'content-encoding': 'gzip' },
      body,
    });
    await expectStatus(res, 200, 'POST /v1/identify, gzip');
    // The same body as application/json: API Gateway passes it as text; it must be refused, with the reason.
    const asJson = await fetch(`${base}/v1/identify`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body,
    });
    const refusedWithReason = asJson.status === 400 && ((await asJson.json()) as { message?: string }).message?.includes('gzip');
    return `gzip with Content-Type application/octet-stream: 200; as application/json: ${refusedWithReason ? '400 with the reason (as documented)' : `HTTP ${asJson.status}`}`;
  });

  await step('beacon', async () => {
    // navigator.sendBeacon with a string: text/plain, no Authorization header, the key in the body.
    const res = await fetch(`${base}/v1/t`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({ writeKey: opts.keys.write, type: 'track', userId, event: 'Scherp Smoke Beacon', properties: { run } }),
    });
    await expectStatus(res, 200, 'POST /v1/t (beacon)');
    return 'POST /v1/t as text/plain with the write key in the body: 200';
  });

  await step('profile read back', async () => {
    const p = await poll(timeout, 1000, async () => {
      const v = await profile();
      return v?.traits.smoke_plain && v.traits.smoke_gzip ? v : undefined;
    });
    if (!p) throw new Error(`GET /v1/profiles/user_id:${userId}: the plain and gzip traits did not arrive within ${timeout / 1000} s`);
    const events = await fetch(`${base}/v1/profiles/user_id:${encodeURIComponent(userId)}/events`, {
      headers: { authorization: `Bearer ${opts.keys.read}` },
    });
    const text = events.status === 200 ? await events.text() : '';
    if (!text.includes('Scherp Smoke Beacon')) {
      const again = await poll(timeout, 1000, async () => {
        const r = await fetch(`${base}/v1/profiles/user_id:${encodeURIComponent(userId)}/events`, {
          headers: { authorization: `Bearer ${opts.keys.read}` },
        });
        return r.status === 200 && (await r.text()).includes('Scherp Smoke Beacon') ? true : undefined;
      });
      if (!again) throw new Error('the beacon event is not on the timeline');
    }
    return `profile ${p.id}: both traits and the beacon event`;
  });

  await step('delayed action', async () => {
    const rule = {
      id: ruleId,
      name: 'Scherp smoke test (temporary)',
      description: 'Created and deleted by scherp smoke',
      trigger: { types: ['track'], events: ['Scherp Smoke Delayed'] },
      actions: [{ type: 'trait', trait: 'smoke_delayed', set: { value: run }, delay: '5s' }],
    };
    await expectStatus(await admin('PUT', `/v1/rules/${ruleId}`, rule), 200, `PUT /v1/rules/${ruleId}`);
    // The functions cache rules (30 s in the cloud): trigger until one evaluation has the rule.
    const deadline = Date.now() + timeout;
    let found: ProfileView | undefined;
    while (!found && Date.now() < deadline) {
      const res = await fetch(`${base}/v1/track`, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/json' },
        body: JSON.stringify({ userId, event: 'Scherp Smoke Delayed' }),
      });
      await expectStatus(res, 200, 'POST /v1/track');
      found = await poll(Math.min(15_000, Math.max(0, deadline - Date.now())), 1000, async () =>
        (await profile())?.traits.smoke_delayed ? (await profile())! : undefined,
      );
    }
    if (!found)
      throw new Error(`the delayed trait action did not run within ${timeout / 1000} s (is the scheduler allowed to invoke evaluate?)`);
    return 'a rule with a 5 s delay ran through the scheduler and set its trait';
  });

  await step('file import', async () => {
    if (!opts.bucket)
      throw Object.assign(new Error('no bucket: pass --bucket <ImportBucketName output> (or --bucket-dir locally)'), { skipped: true });
    const key = `${IMPORTS_PREFIX}default/scherp-smoke-${run}.ndjson`;
    await opts.bucket.put(key, `${JSON.stringify({ id: `user_id:${userId}`, traits: { smoke_import: run } })}\n`);
    const reportKey = `${REPORTS_PREFIX}default/scherp-smoke-${run}.ndjson.json`;
    const report = await poll(timeout, 1000, async () => {
      const r = await opts.bucket!.getJson<ImportReport>(reportKey);
      return r && r.status !== 'running' ? r : undefined;
    });
    if (!report) throw new Error(`no report at ${reportKey} within ${timeout / 1000} s`);
    if (report.status !== 'done' || report.imported !== 1)
      throw new Error(`report ${reportKey}: ${report.status} ${report.reason ?? ''} (imported ${report.imported})`);
    if (!(await profileWith('smoke_import'))) throw new Error('the report is done but the imported trait did not reach the profile');
    return `${key} imported (report ${reportKey}: done, 1 row) and its trait is on the profile`;
  });

  await step('clean up', async () => {
    const del = await admin('DELETE', `/v1/rules/${ruleId}`);
    const erase = await fetch(`${base}/v1/profiles/user_id:${encodeURIComponent(userId)}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${opts.keys.admin}` },
    });
    if (![200, 204, 404].includes(del.status) || ![200, 202, 204].includes(erase.status))
      throw new Error(`DELETE rule: ${del.status}, erase profile: ${erase.status}`);
    return 'the temporary rule is deleted and the test profile erased';
  });
  return steps;
}

const str = optionValue;

/** The options of `scherp smoke`, for the command table (`local/cli.ts`). */
export const SMOKE_OPTIONS: readonly CliOption[] = [
  { name: 'url', value: 'URL', help: 'the API: the stack output ApiUrl (default SCHERP_URL)' },
  { name: 'stack', value: 'NAME', help: "read the three keys from the stack's Secrets Manager secrets" },
  { name: 'write-key', value: 'KEY', help: 'the write key (default SCHERP_WRITE_KEY)' },
  { name: 'read-key', value: 'KEY', help: 'the read key (default SCHERP_READ_KEY)' },
  { name: 'admin-key', value: 'KEY', help: 'the admin key (default SCHERP_ADMIN_KEY)' },
  { name: 'bucket', value: 'NAME', help: 'the import bucket (stack output ImportBucketName): drop a file and wait for its report' },
  { name: 'bucket-dir', value: 'DIR', help: 'the local import bucket folder instead (npm start: .scherp/bucket)' },
  { name: 'timeout', value: 'SECONDS', help: 'how long each step may wait for the pipeline' },
];

export const SMOKE_USAGE =
  'usage: scherp smoke --url <ApiUrl> [--stack NAME | --write-key K --read-key K --admin-key K] [--bucket <ImportBucketName> | --bucket-dir DIR] [--timeout SECONDS]';

/** The command: parses flags, runs the steps, prints one line each; exit code 1 when one failed. */
export async function smokeCommand(o: CliOptions): Promise<void> {
  const url = str(o, 'url') ?? process.env.SCHERP_URL;
  if (!url) throw new Error(SMOKE_USAGE);
  const stack = str(o, 'stack');
  const given = {
    write: str(o, 'write-key') ?? process.env.SCHERP_WRITE_KEY,
    read: str(o, 'read-key') ?? process.env.SCHERP_READ_KEY,
    admin: str(o, 'admin-key') ?? process.env.SCHERP_ADMIN_KEY,
  };
  let keys: SmokeKeys;
  if (given.write && given.read && given.admin) keys = given as SmokeKeys;
  else if (stack) keys = await keysFromStack(new SecretsManagerClient({}), stack);
  else throw new Error(`keys: pass --stack NAME or all of --write-key, --read-key and --admin-key\n${SMOKE_USAGE}`);
  const bucketName = str(o, 'bucket');
  const bucketDir = str(o, 'bucket-dir');
  const bucket = bucketDir ? new FolderBucket(bucketDir) : bucketName ? new S3Bucket(new S3Client({}), bucketName) : undefined;
  const timeout = str(o, 'timeout');
  const mark = { ok: '✓', failed: '✗', skipped: '-' } as const;
  process.stdout.write(`Scherp smoke test against ${url}\n`);
  const steps = await runSmoke({
    url,
    keys,
    bucket,
    timeoutMs: timeout ? Number(timeout) * 1000 : undefined,
    onStep: (s) => process.stdout.write(`${mark[s.status]} ${s.name}: ${s.detail}\n`),
  });
  const failed = steps.filter((s) => s.status === 'failed').length;
  process.stdout.write(
    failed === 0 ? `all ${steps.filter((s) => s.status === 'ok').length} steps worked\n` : `${failed} of ${steps.length} steps failed\n`,
  );
  if (failed > 0) process.exitCode = 1;
}
