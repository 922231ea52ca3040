/**
 * One runtime per data folder: a live holder is refused with a message naming the way out; a
 * crashed runtime's lock (its process gone, or its pid reused) is taken over.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireRuntimeLock, DataDirInUseError, liveRuntime, LOCK_FILE } from '../../local/runtime-lock';

const dirs: string[] = [];
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'scherp-lock-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

it('refuses a folder a live runtime holds, naming --data-dir and --port, and frees it on release', () => {
  const d = dir();
  const lock = acquireRuntimeLock(d);
  lock.setUrl('http://127.0.0.1:8080');
  expect(liveRuntime(d)).toMatchObject({ pid: process.pid, url: 'http://127.0.0.1:8080' });
  let err: unknown;
  try {
    acquireRuntimeLock(d);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DataDirInUseError);
  expect((err as Error).message).toContain(d);
  expect((err as Error).message).toContain('http://127.0.0.1:8080');
  expect((err as Error).message).toMatch(/--data-dir .*--port/);
  lock.release();
  expect(existsSync(join(d, LOCK_FILE))).toBe(false);
  expect(liveRuntime(d)).toBeUndefined();
  acquireRuntimeLock(d).release();
});

it('takes over the lock of a runtime whose process is gone', () => {
  const d = dir();
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  const pid = Number(dead.stdout.toString());
  writeFileSync(join(d, LOCK_FILE), JSON.stringify({ pid, startedAt: '2026-01-01T00:00:00Z', url: 'http://127.0.0.1:1' }));
  expect(liveRuntime(d)).toBeUndefined();
  const lock = acquireRuntimeLock(d);
  expect(JSON.parse(readFileSync(join(d, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
  lock.release();
});

it('takes over a lock whose pid now belongs to another process (Linux: its start time differs)', () => {
  if (!existsSync('/proc/self/stat')) return;
  const d = dir();
  writeFileSync(join(d, LOCK_FILE), JSON.stringify({ pid: process.pid, procStart: '1', startedAt: '2026-01-01T00:00:00Z' }));
  const lock = acquireRuntimeLock(d);
  lock.release();
});

it('a lock that cannot be read is stale', () => {
  const d = dir();
  writeFileSync(join(d, LOCK_FILE), '');
  acquireRuntimeLock(d).release();
});
