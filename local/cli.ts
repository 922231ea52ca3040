/**
 * `scherp` command line: `start` runs the whole CDP locally.
 *   npm start                      persistent data in .scherp/ (SCHERP_DATA_DIR overrides)
 *   npm start -- --in-memory       a throwaway run
 *   npm start -- --port 9000       another port (PORT works too)
 *   npm start -- --config FILE     configuration (default: scherp.config.json, if present)
 * `import FILE --source NAME` sends a NDJSON or CSV file of identifiers and traits to
 * `POST /v1/import` (`--url`, default SCHERP_URL or http://localhost:8080; admin key from
 * SCHERP_ADMIN_KEY or the local data directory's keys.json; `--format ndjson|csv`).
 */
import './quiet';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startRuntime } from './runtime';
import { FileDeadLetters } from './dead-letters';
import { LocalQueue } from './queue';
import { limitsFromEnv } from '../lambdas/collect';
import { importFile, progressBar } from './import-client';
import { smokeCommand } from './smoke';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function start(args: string[]): Promise<void> {
  const port = Number(flag(args, '--port') ?? process.env.PORT ?? 8080);
  const rt = await startRuntime({
    port,
    inMemory: args.includes('--in-memory'),
    dataDir: flag(args, '--data-dir'),
    configFile: flag(args, '--config'),
    keys: { write: process.env.SCHERP_WRITE_KEY, read: process.env.SCHERP_READ_KEY, admin: process.env.SCHERP_ADMIN_KEY },
    printBus: true,
    // Same variables as the cloud functions; CORS origins comma-separated (default: any).
    limits: limitsFromEnv(),
    corsAllowedOrigins: process.env.SCHERP_CORS_ORIGINS ? process.env.SCHERP_CORS_ORIGINS.split(',').map((o) => o.trim()) : undefined,
  });
  const basic = Buffer.from(`${rt.keys.write}:`).toString('base64');
  process.stdout.write(
    [
      `Scherp is running at ${rt.url}`,
      `  data:       ${args.includes('--in-memory') ? '(in memory)' : rt.dataDir}`,
      `  write key:  ${rt.keys.write}`,
      `  read key:   ${rt.keys.read}`,
      `  admin key:  ${rt.keys.admin}`,
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

function runtimeRunning(dataDir: string): boolean {
  const file = join(dataDir, 'runtime.pid');
  if (!existsSync(file)) return false;
  try {
    process.kill(Number(readFileSync(file, 'utf8')), 0);
    return true;
  } catch {
    return false;
  }
}

/** `scherp dlq` against a running runtime: its admin API (`GET /v1/dlq`, `POST /v1/dlq/redrive`). */
async function dlqOverApi(sub: 'list' | 'redrive', ids: string[], url: string, dataDir: string): Promise<void> {
  const keysFile = join(dataDir, 'keys.json');
  const adminKey = process.env.SCHERP_ADMIN_KEY || (existsSync(keysFile) ? (JSON.parse(readFileSync(keysFile, 'utf8')) as { admin?: string }).admin : undefined);
  if (!adminKey) throw new Error(`no admin key: set SCHERP_ADMIN_KEY (or keep ${keysFile})`);
  const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
  const res =
    sub === 'list'
      ? await fetch(`${url}/v1/dlq?limit=1000`, { headers })
      : await fetch(`${url}/v1/dlq/redrive`, { method: 'POST', headers, body: JSON.stringify(ids.length > 0 ? { ids } : {}) });
  const body = (await res.json()) as { deadLetters?: unknown[]; redriven?: number; error?: string; message?: string };
  if (!res.ok) throw new Error(`${url}: ${res.status} ${body.message ?? body.error ?? ''}`);
  if (sub === 'list') for (const l of body.deadLetters ?? []) process.stdout.write(JSON.stringify(l) + '\n');
  else process.stdout.write(`redriven: ${body.redriven}\n`);
}

/**
 * `scherp dlq list` and `scherp dlq redrive [ID…]`: through the admin API of the runtime using
 * the data directory (at `--url`, else http://127.0.0.1:$PORT, default 8080), or offline on the
 * journal when none is running.
 */
async function dlq(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const dataDir = resolve(flag(rest, '--data-dir') ?? process.env.SCHERP_DATA_DIR ?? '.scherp');
  const ids = rest.filter((a, i) => !a.startsWith('--') && rest[i - 1] !== '--data-dir' && rest[i - 1] !== '--url');
  if (sub !== 'list' && sub !== 'redrive') throw new Error('usage: scherp dlq list|redrive [ID…] [--data-dir DIR] [--url URL]');
  const url = flag(rest, '--url');
  if (url || runtimeRunning(dataDir)) return dlqOverApi(sub, ids, url ?? `http://127.0.0.1:${process.env.PORT ?? 8080}`, dataDir);
  let queue: LocalQueue | undefined;
  const letters = new FileDeadLetters(join(dataDir, 'dlq.jsonl'), async (bodies) => {
    queue ??= new LocalQueue({ journalFile: join(dataDir, 'queue.jsonl') });
    await queue.sendBodies(bodies);
  });
  if (sub === 'list') {
    for (const l of await letters.list(10_000)) process.stdout.write(JSON.stringify(l) + '\n');
    return;
  }
  const n = await letters.redrive(ids.length > 0 ? ids : undefined);
  await queue?.stop();
  process.stdout.write(`redriven: ${n} (they are processed when the runtime starts)\n`);
}

async function importCommand(args: string[]): Promise<void> {
  const file = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
  const source = flag(args, '--source');
  if (!file || !source) throw new Error('usage: scherp import FILE --source NAME [--url URL] [--format ndjson|csv]');
  const format = flag(args, '--format');
  if (format !== undefined && format !== 'csv' && format !== 'ndjson') throw new Error('--format must be ndjson or csv');
  const dataDir = resolve(flag(args, '--data-dir') ?? process.env.SCHERP_DATA_DIR ?? '.scherp');
  const keysFile = join(dataDir, 'keys.json');
  const adminKey = process.env.SCHERP_ADMIN_KEY ?? (existsSync(keysFile) ? (JSON.parse(readFileSync(keysFile, 'utf8')) as { admin?: string }).admin : undefined);
  if (!adminKey) throw new Error('no admin key: set SCHERP_ADMIN_KEY');
  const tty = process.stderr.isTTY;
  const r = await importFile({
    file,
    source,
    format,
    url: (flag(args, '--url') ?? process.env.SCHERP_URL ?? 'http://localhost:8080').replace(/\/$/, ''),
    adminKey,
    onProgress: (done, total) => process.stderr.write(tty ? `\r${progressBar(done, total)}` : `${progressBar(done, total)}\n`),
  });
  if (tty) process.stderr.write('\n');
  for (const e of r.errors) process.stdout.write(`line ${e.line}: ${e.reason}\n`);
  process.stdout.write(`imported: ${r.imported} rows, errors: ${r.errors.length}\n`);
  if (r.errors.length > 0) process.exitCode = 1;
}

async function main(): Promise<void> {
  const [cmd = 'start', ...rest] = process.argv.slice(2);
  if (cmd === 'start') return start(rest);
  if (cmd === 'dlq') return dlq(rest);
  if (cmd === 'import') return importCommand(rest);
  if (cmd === 'smoke') return smokeCommand(rest);
  process.stderr.write(`unknown command: ${cmd}\nusage: scherp start [--in-memory] [--port N] [--data-dir DIR] [--config FILE]\n       scherp dlq list|redrive [ID…] [--data-dir DIR] [--url URL]\n       scherp import FILE --source NAME [--url URL] [--format ndjson|csv]\n`);
  process.exit(2);
}

main().catch((err) => {
  process.stderr.write(`scherp: ${(err as Error).message}\n`);
  process.exit(1);
});
