/**
 * Dead letters: events that could not be processed after every retry, kept with the reason until
 * an operator redrives them. A redrive puts them back on the queue; processing is idempotent, so
 * replaying a letter twice changes nothing.
 */
import { RedriveRequestSchema } from '../core/dead-letters';
import { ValidationError } from '../core/errors';
import { zodIssues } from '../core/events';

export interface DeadLetterView {
  /** The letter's id (the queue message id). */
  readonly id: string;
  readonly reason: string;
  readonly receiveCount: number;
  readonly at: string;
  /** What the letter carries, without its payload (which may hold personal data). */
  readonly event?: { readonly type?: string; readonly messageId?: string; readonly sourceId?: string };
}

export interface DeadLetters {
  list(limit?: number): Promise<DeadLetterView[]>;
  /** Moves the given letters (all when `ids` is omitted) back to the queue; returns how many. */
  redrive(ids?: readonly string[]): Promise<number>;
}

/** Validates a redrive request (an empty body: every letter) and redrives. */
export async function redriveLetters(letters: DeadLetters, body: unknown): Promise<number> {
  const parsed = RedriveRequestSchema.safeParse(body ?? {});
  if (!parsed.success) throw new ValidationError('invalid redrive request', zodIssues(parsed.error));
  return letters.redrive(parsed.data.ids);
}

/** The event summary of a queued body, tolerant of bodies that are not JSON. */
export function summarize(body: string): DeadLetterView['event'] {
  try {
    const e = JSON.parse(body) as { type?: unknown; messageId?: unknown; sourceId?: unknown };
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    return { type: str(e.type), messageId: str(e.messageId), sourceId: str(e.sourceId) };
  } catch {
    return undefined;
  }
}

/** A letter as the consumer hands it over on its last attempt. */
export interface Letter {
  readonly queueMessageId: string;
  readonly body: string;
  readonly reason: string;
  readonly receiveCount: number;
}

/** Where a consumer puts a message it gives up on, with the reason (the queue's own redrive policy stays as the backstop for crashes). */
export interface DeadLetterSink {
  put(letter: Letter): Promise<void>;
}
