/**
 * The local dead-letter queue: `dlq.jsonl` in the data directory, one letter per line, with the
 * reason. Redrive sends the bodies back through the queue (durably) before removing the letters,
 * so a crash in between can only replay a letter, never lose one.
 */
import { existsSync, readFileSync, renameSync, writeFileSync, appendFileSync } from 'node:fs';
import type { DeadLetters, DeadLetterSink, DeadLetterView, Letter } from '../app/dead-letters';
import { summarize } from '../app/dead-letters';
import type { DeadLetter } from './queue';

export class FileDeadLetters implements DeadLetters, DeadLetterSink {
  constructor(
    private readonly file: string,
    /** Puts bodies back on the queue; resolves once they are durable. */
    private readonly requeue: (bodies: readonly string[]) => Promise<void>,
  ) {}

  append(letter: DeadLetter): void {
    appendFileSync(this.file, `${JSON.stringify(letter)}\n`);
  }

  async put(l: Letter): Promise<void> {
    this.append({
      messageId: l.queueMessageId,
      body: l.body,
      reason: l.reason,
      receiveCount: l.receiveCount,
      at: new Date().toISOString(),
    });
  }

  private read(): DeadLetter[] {
    if (!existsSync(this.file)) return [];
    const out: DeadLetter[] = [];
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as DeadLetter);
      } catch {
        // a torn last line from a crash: never acknowledged as dead-lettered, the message is still in the queue journal
      }
    }
    return out;
  }

  async list(limit = 100): Promise<DeadLetterView[]> {
    return this.read()
      .slice(0, limit)
      .map((l) => ({ id: l.messageId, reason: l.reason, receiveCount: l.receiveCount, at: l.at, event: summarize(l.body) }));
  }

  async redrive(ids?: readonly string[]): Promise<number> {
    const all = this.read();
    const chosen = ids ? all.filter((l) => ids.includes(l.messageId)) : all;
    if (chosen.length === 0) return 0;
    await this.requeue(chosen.map((l) => l.body));
    const keep = all.filter((l) => !chosen.includes(l));
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, keep.map((l) => `${JSON.stringify(l)}\n`).join(''));
    renameSync(tmp, this.file);
    return chosen.length;
  }
}
