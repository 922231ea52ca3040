/**
 * One runtime per data folder. `startRuntime` takes `<dataDir>/runtime.lock` before it touches
 * anything in the folder (DynamoDB Local's files, the queue journal, the import folder): a lock
 * held by a live process is refused with a message naming `--data-dir` and `--port`, so a second
 * `npm start` never stops the first one's DynamoDB Local; a lock left by a crashed runtime (its
 * process is gone, or its pid now belongs to another process) is taken over. The lock also
 * tells the CLI (`scherp dlq`) the URL of the runtime that owns the folder.
 */
import { existsSync, linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'runtime.lock';

export interface LockInfo {
  readonly pid: number;
  /** The process's start time in clock ticks since boot (Linux): tells a reused pid apart. */
  readonly procStart?: string;
  readonly startedAt: string;
  /** Set once the HTTP server listens. */
  readonly url?: string;
}

export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockInfo,
  ) {
    super(
      `${dataDir} is in use by a running Scherp (pid ${holder.pid}, ${holder.url ?? 'starting'}): stop that one first, or start another one ` +
        'with its own data folder and port: npm start -- --data-dir <another folder> --port <another port> (or --in-memory)',
    );
    this.name = 'DataDirInUseError';
  }
}

/** The fields of /proc/<pid>/stat after the command name (Linux), undefined elsewhere. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The process's start time (field 22 of its stat). */
const procStart = (pid: number): string | undefined => procStat(pid)?.[19];

/** Whether the process that wrote the lock still runs. */
export function isAlive(lock: LockInfo): boolean {
  if (!Number.isInteger(lock.pid) || lock.pid <= 0) return false;
  try {
    process.kill(lock.pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (procStat(lock.pid)?.[0] === 'Z') return false;
  const start = procStart(lock.pid);
  return lock.procStart === undefined || start === undefined || start === lock.procStart;
}

function readLock(file: string): LockInfo | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
    return typeof parsed.pid === 'number' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The runtime holding `dataDir`, if one is alive. */
export function liveRuntime(dataDir: string): LockInfo | undefined {
  const lock = readLock(join(dataDir, LOCK_FILE));
  return lock && isAlive(lock) ? lock : undefined;
}

export interface RuntimeLock {
  /** Records the runtime's URL once it listens. */
  setUrl(url: string): void;
  /** Removes the lock (only while it is still this process's). */
  release(): void;
}

/**
 * Takes the data folder for this process, or throws {@link DataDirInUseError}. The lock file is
 * written whole and then hard-linked into place, which fails when it exists: two starts at the
 * same moment cannot both win, and a reader never sees half a lock.
 */
export function acquireRuntimeLock(dataDir: string): RuntimeLock {
  const file = join(dataDir, LOCK_FILE);
  const mine: LockInfo = { pid: process.pid, procStart: procStart(process.pid), startedAt: new Date().toISOString() };
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const isMine = () => {
    const held = readLock(file);
    return held?.pid === mine.pid && held.startedAt === mine.startedAt;
  };
  writeFileSync(tmp, `${JSON.stringify(mine)}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, file);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw err;
      }
      const held = readLock(file);
      if (held && isAlive(held)) throw new DataDirInUseError(dataDir, held);
      // Stale (its runtime crashed): take it over, unless it changed meanwhile.
      if (JSON.stringify(readLock(file)) === JSON.stringify(held)) rmSync(file, { force: true });
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  return {
    setUrl(url) {
      if (!isMine()) return;
      writeFileSync(tmp, `${JSON.stringify({ ...mine, url })}\n`, { mode: 0o600 });
      renameSync(tmp, file);
    },
    release() {
      if (existsSync(file) && isMine()) rmSync(file, { force: true });
    },
  };
}
