/**
 * `scherp` command line. The commands and their options are the table `COMMANDS` below
 * (`scherp --help` prints it; `scherp CMD --help` one command's options):
 *   start    runs the whole CDP locally (what `npm start` runs)
 *   dlq      lists or redrives dead letters (through the runtime owning the data folder, or offline)
 *   import   sends a NDJSON or CSV file of identifiers and traits to `POST /v1/import`
 *   jobs     lists, shows (with a progress bar) or cancels jobs such as audience backfills
 */
import './quiet';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startRuntime } from './runtime';
import { liveRuntime } from './runtime-lock';
import { optionValue, resolveCommandLine, type CliCommand, type CliOptions } from './cli-usage';
import { FileDeadLetters } from './dead-letters';
import { LocalQueue } from './queue';
import { limitsFromEnv } from '../lambdas/collect';
import { rateLimitFromEnv } from '../lambdas/shared/rate-limit';
import { importFile, progressBar } from './import-client';
import { CHECK_OPTIONS, checkCommand } from './check-command';
import { SMOKE_OPTIONS, smokeCommand } from './smoke';
import { jobsCommand } from './jobs-command';

const str = optionValue;

/** The data folder a command works on: `--data-dir`, else `SCHERP_DATA_DIR`, else `.scherp`. */
function dataDirOf(o: CliOptions): string {
  return resolve(str(o, 'data-dir') ?? process.env.SCHERP_DATA_DIR ?? '.scherp');
}

/** The admin key, and where it was taken from (said when the runtime refuses it). */
function adminKeyOf(dataDir: string): { key: string; from: string } {
  if (process.env.SCHERP_ADMIN_KEY) return { key: process.env.SCHERP_ADMIN_KEY, from: 'SCHERP_ADMIN_KEY' };
  const keysFile = join(dataDir, 'keys.json');
  const key = existsSync(keysFile) ? (JSON.parse(readFileSync(keysFile, 'utf8')) as { admin?: string }).admin : undefined;
  if (!key)
    throw new Error(`no admin key: set SCHERP_ADMIN_KEY (or start the runtime once on ${dataDir}, which keeps its keys in ${keysFile})`);
  return { key, from: keysFile };
}

/**
 * The URL of the runtime to talk to: `--url`, else the runtime owning the data folder (its
 * `runtime.lock`), else `fallback`.
 */
function runtimeUrl(o: CliOptions, dataDir: string, fallback: string | undefined): string | undefined {
  const given = str(o, 'url');
  if (given) return given.replace(/\/$/, '');
  const live = liveRuntime(dataDir);
  if (live && !live.url) throw new Error(`the runtime on ${dataDir} (pid ${live.pid}) is still starting: try again in a moment`);
  return live?.url ?? fallback;
}

const unauthorized = (from: string) =>
  `the admin key was taken from ${from}; it is not one of this runtime's keys (set SCHERP_ADMIN_KEY to the admin key it printed at start)`;

async function start(o: CliOptions): Promise<void> {
  const port = Number(str(o, 'port') ?? process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be a port number (0–65535, 0: any free one), got ${str(o, 'port') ?? process.env.PORT}`);
  const inMemory = o['in-memory'] === true;
  const rt = await startRuntime({
    port,
    inMemory,
    dataDir: str(o, 'data-dir'),
    configFile: str(o, 'config'),
    keys: {
      write: process.env.SCHERP_WRITE_KEY,
      read: process.env.SCHERP_READ_KEY,
      admin: process.env.SCHERP_ADMIN_KEY,
      userToken: process.env.SCHERP_USER_TOKEN_SECRET,
    },
    printBus: true,
    // As the stack's import bucket: dropped files and reports expire after 30 days.
    importRetentionDays: 30,
    // Same variables as the cloud functions; CORS origins comma-separated (default: any).
    limits: limitsFromEnv(),
    sourceRateLimit: rateLimitFromEnv(),
    corsAllowedOrigins: process.env.SCHERP_CORS_ORIGINS ? process.env.SCHERP_CORS_ORIGINS.split(',').map((v) => v.trim()) : undefined,
  });
  const basic = Buffer.from(`${rt.keys.write}:`).toString('base64');
  process.stdout.write(
    [
      `Scherp is running at ${rt.url}`,
      `  data:       ${inMemory ? `(in memory); files in ${rt.dataDir}${rt.temporaryDataDir ? ' (removed at stop)' : ''}` : rt.dataDir}`,
      `  write key:  ${rt.keys.write}`,
      `  read key:   ${rt.keys.read}`,
      `  admin key:  ${rt.keys.admin}`,
      `  console:    ${rt.url}/console/ (sign in with the admin or the read key)`,
      `  user-token secret: ${rt.keys.userToken} (your back end signs POST /v1/context userTokens with it)`,
      `  bus output: ${rt.dataDir}/bus.jsonl`,
      `  import:     drop .csv/.ndjson files into ${rt.bucketDir}/imports/<source>/ (reports in ${rt.bucketDir}/reports/)`,
      '',
      'Try:',
      `  curl -s ${rt.url}/v1/track -H 'Authorization: Basic ${basic}' -H 'Content-Type: application/json' \\`,
      `    -d '{"userId":"42","event":"Order Completed","properties":{"revenue":150}}'`,
      `  curl -s -u ${rt.keys.read}: ${rt.url}/v1/profiles/user_id:42`,
      '',
      `SCHERP_READY ${rt.url}`,
      '',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping Scherp…\n`);
    await rt.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

/** `scherp dlq` against a running runtime: its admin API (`GET /v1/dlq`, `POST /v1/dlq/redrive`). */
async function dlqOverApi(sub: 'list' | 'redrive', ids: readonly string[], url: string, dataDir: string): Promise<void> {
  const admin = adminKeyOf(dataDir);
  const headers = { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' };
  const res =
    sub === 'list'
      ? await fetch(`${url}/v1/dlq?limit=1000`, { headers })
      : await fetch(`${url}/v1/dlq/redrive`, { method: 'POST', headers, body: JSON.stringify(ids.length > 0 ? { ids } : {}) });
  const body = (await res.json()) as { deadLetters?: unknown[]; redriven?: number; error?: string; message?: string };
  if (res.status === 401) throw new Error(`${url}: 401 ${body.message ?? ''}: ${unauthorized(admin.from)}`);
  if (!res.ok) throw new Error(`${url}: ${res.status} ${body.message ?? body.error ?? ''}`);
  if (sub === 'list') for (const l of body.deadLetters ?? []) process.stdout.write(`${JSON.stringify(l)}\n`);
  else process.stdout.write(`redriven: ${body.redriven}\n`);
}

/**
 * `scherp dlq list` and `scherp dlq redrive [ID…]`: through the admin API of the runtime that
 * owns the data folder (or at `--url`), or offline on its journal when none runs.
 */
async function dlq(o: CliOptions, positionals: readonly string[]): Promise<void> {
  const [sub, ...ids] = positionals;
  if (sub !== 'list' && sub !== 'redrive')
    throw new Error('say what to do: scherp dlq list, or scherp dlq redrive [ID…] (see scherp dlq --help)');
  if (sub === 'list' && ids.length > 0) throw new Error('scherp dlq list takes no ids');
  const dataDir = dataDirOf(o);
  const url = runtimeUrl(o, dataDir, undefined);
  if (url) return dlqOverApi(sub, ids, url, dataDir);
  let queue: LocalQueue | undefined;
  const letters = new FileDeadLetters(join(dataDir, 'dlq.jsonl'), async (bodies) => {
    queue ??= new LocalQueue({ journalFile: join(dataDir, 'queue.jsonl') });
    await queue.sendBodies(bodies);
  });
  if (sub === 'list') {
    for (const l of await letters.list(10_000)) process.stdout.write(`${JSON.stringify(l)}\n`);
    return;
  }
  const n = await letters.redrive(ids.length > 0 ? ids : undefined);
  await queue?.stop();
  process.stdout.write(`redriven: ${n} (they are processed when the runtime starts)\n`);
}

async function importCommand(o: CliOptions, positionals: readonly string[]): Promise<void> {
  const [file, ...extra] = positionals;
  const source = str(o, 'source');
  if (!file || !source || extra.length > 0)
    throw new Error('give one FILE and --source NAME: scherp import people.csv --source crm (see scherp import --help)');
  const format = str(o, 'format');
  if (format !== undefined && format !== 'csv' && format !== 'ndjson') throw new Error('--format must be ndjson or csv');
  const dataDir = dataDirOf(o);
  const admin = adminKeyOf(dataDir);
  const url = runtimeUrl(o, dataDir, (process.env.SCHERP_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, ''))!;
  const tty = process.stderr.isTTY;
  const r = await importFile({
    file,
    source,
    format,
    url,
    adminKey: admin.key,
    onProgress: (done, total) => process.stderr.write(tty ? `\r${progressBar(done, total)}` : `${progressBar(done, total)}\n`),
  }).catch((err: Error) => {
    if (/\(401\)/.test(err.message)) throw new Error(`${url}: ${err.message}: ${unauthorized(admin.from)}`);
    if (err.message === 'fetch failed')
      throw new Error(`cannot reach ${url}${str(o, 'url') ? '' : `: no runtime runs on ${dataDir}; start one (npm start) or give --url`}`);
    throw err;
  });
  if (tty) process.stderr.write('\n');
  for (const e of r.errors) process.stdout.write(`line ${e.line}: ${e.reason}\n`);
  process.stdout.write(`imported: ${r.imported} rows, errors: ${r.errors.length}\n`);
  if (r.errors.length > 0) process.exitCode = 1;
}

const DATA_DIR: CliCommand['options'][number] = {
  name: 'data-dir',
  value: 'DIR',
  help: 'the data folder (default SCHERP_DATA_DIR, else .scherp)',
};
const URL_OPTION: CliCommand['options'][number] = {
  name: 'url',
  value: 'URL',
  help: 'the runtime (default: the one running on the data folder)',
};

/** Every subcommand: its help and its options come from here. */
const COMMANDS: readonly CliCommand[] = [
  {
    name: 'start',
    summary: 'run the whole CDP locally: DynamoDB Local, the Lambda handlers, queue, stream, bus and import folder',
    options: [
      { name: 'port', value: 'N', help: 'HTTP port on 127.0.0.1 (default PORT, else 8080; 0: any free one)' },
      {
        name: 'data-dir',
        value: 'DIR',
        help: 'where data, keys, bus output and the import folder live (default SCHERP_DATA_DIR, else .scherp); one runtime per folder',
      },
      { name: 'in-memory', help: 'a throwaway run: DynamoDB in memory, files in a temporary folder removed at stop' },
      { name: 'config', value: 'FILE', help: 'the configuration (default scherp.config.json, if present)' },
    ],
    run: (o) => start(o),
  },
  {
    name: 'dlq',
    args: 'list|redrive [ID…]',
    summary: 'list or redrive dead letters: through the runtime owning the data folder, offline when none runs',
    options: [DATA_DIR, URL_OPTION],
    run: dlq,
  },
  {
    name: 'import',
    args: 'FILE',
    summary:
      "send a NDJSON or CSV file of identifiers and traits to POST /v1/import (admin key: SCHERP_ADMIN_KEY, else the data folder's keys.json)",
    options: [
      { name: 'source', value: 'NAME', help: 'the source (id or name) the rows come from (required)' },
      { name: 'format', value: 'ndjson|csv', help: 'the file format (default: from the extension)' },
      DATA_DIR,
      {
        name: 'url',
        value: 'URL',
        help: 'the runtime (default: the one running on the data folder, else SCHERP_URL, else http://127.0.0.1:8080)',
      },
    ],
    run: importCommand,
  },
  {
    name: 'jobs',
    args: 'list|show ID|cancel ID',
    summary: 'list jobs (audience backfills) with a progress bar, rate and ETA; show one (--watch: until it ends); cancel one',
    options: [DATA_DIR, URL_OPTION, { name: 'watch', help: 'show: redraw every second until the job ends' }],
    run: async (o, positionals) => {
      const dataDir = dataDirOf(o);
      const url = runtimeUrl(o, dataDir, process.env.SCHERP_URL ?? 'http://127.0.0.1:8080')!;
      const out = (t: string) => process.stdout.write(t);
      await jobsCommand({ url, adminKey: adminKeyOf(dataDir).key, watch: o.watch === true, out }, positionals);
    },
  },
  {
    name: 'check',
    summary:
      'check the storage invariants of a whole table: every profile reachable, no identifier in two live profiles, merge chains, computed counts, erased people gone (exit 1 on a violation)',
    options: CHECK_OPTIONS,
    run: (o) => checkCommand(o),
  },
  {
    name: 'smoke',
    summary:
      'after a deploy: send plain, gzip and beacon events, read the profile back, fire a delayed action, import a file, and print what worked (exit 1 when a step failed)',
    options: SMOKE_OPTIONS,
    run: (o) => smokeCommand(o),
  },
];

async function main(): Promise<void> {
  const r = resolveCommandLine(COMMANDS, process.argv.slice(2));
  if (r.kind === 'print') {
    (r.exitCode === 0 ? process.stdout : process.stderr).write(r.text);
    process.exitCode = r.exitCode;
    return;
  }
  await r.command.run(r.options, r.positionals);
}

main().catch((err) => {
  process.stderr.write(`scherp: ${(err as Error).message}\n`);
  process.exit(1);
});
