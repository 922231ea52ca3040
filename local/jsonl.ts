/**
 * Rewriting a JSONL file without some of its lines, for erasure and retention of the local
 * files: to a temporary file, then renamed over it, synchronously from read to rename (so no
 * append of this process lands in between and is lost).
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { CopyStore, ErasureSubject } from '../app/ports';

/** Removes the lines `drop` selects (blank lines go too); returns how many were removed. A missing file, or nothing to drop, is left alone. */
export function rewriteJsonlWithout(file: string, drop: (line: string) => boolean): number {
  if (!existsSync(file)) return 0;
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
  const kept = lines.filter((line) => !drop(line));
  if (kept.length === lines.length) return 0;
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, kept.length === 0 ? '' : `${kept.join('\n')}\n`);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return lines.length - kept.length;
}

/** Whether a line names the subject: one of its profile ids anywhere, or its identifiers (the matcher on the line as JSON text). */
export function lineNames(
  line: string,
  subject: { readonly profileIds: readonly string[]; readonly matches: (text: string) => boolean },
): boolean {
  return subject.profileIds.some((id) => id.length > 0 && line.includes(id)) || subject.matches(line);
}

/**
 * A JSONL file of the data directory as a store erasure reaches: the lines naming the subject
 * are removed. `textOf` picks what of a parsed line to match (a dead letter's event body).
 */
export class JsonlFileCopies implements CopyStore {
  constructor(
    readonly name: string,
    private readonly file: string,
    private readonly textOf: (parsed: unknown) => string | undefined = () => undefined,
  ) {}

  async eraseSubject(subject: ErasureSubject): Promise<number> {
    return rewriteJsonlWithout(this.file, (line) => {
      let inner: string | undefined;
      try {
        inner = this.textOf(JSON.parse(line));
      } catch {
        // not JSON: the line as a whole
      }
      return lineNames(line, subject) || (inner !== undefined && lineNames(inner, subject));
    });
  }
}
