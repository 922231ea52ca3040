/**
 * Lines of a byte stream with the byte offset after each, so a long import can stop after any
 * line and resume there later with a ranged read (`bytes=<end>-`). Splits on `\n` bytes (never
 * inside a UTF-8 sequence), drops a trailing `\r`, and cuts lines longer than a bound instead of
 * buffering them whole. Pure apart from consuming the iterable.
 */

export interface Line {
  /** The line's text without its line break (empty when `tooLong`). */
  readonly text: string;
  /** Absolute byte offset just after the line's `\n` (or the end of the stream). */
  readonly end: number;
  /** The line was longer than `maxBytes`; its text is dropped. */
  readonly tooLong?: boolean;
}

/** Longest line kept (a row of 300 traits fits easily). */
export const DEFAULT_MAX_LINE_BYTES = 256 * 1024;

const NEWLINE = 0x0a;
const CR = 0x0d;

export async function* linesWithOffsets(
  chunks: AsyncIterable<Uint8Array>,
  start = 0,
  maxBytes = DEFAULT_MAX_LINE_BYTES,
): AsyncGenerator<Line> {
  const decoder = new TextDecoder('utf-8');
  let parts: Uint8Array[] = [];
  let length = 0;
  let tooLong = false;
  let offset = start;
  const finish = (end: number): Line => {
    let bytes = parts.length === 1 ? parts[0]! : concat(parts, length);
    if (bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
    const line: Line = tooLong ? { text: '', end, tooLong: true } : { text: decoder.decode(bytes), end };
    parts = [];
    length = 0;
    tooLong = false;
    return line;
  };
  const keep = (piece: Uint8Array) => {
    if (tooLong) return;
    if (length + piece.length > maxBytes) {
      tooLong = true;
      parts = [];
      length = 0;
      return;
    }
    parts.push(piece);
    length += piece.length;
  };
  for await (const chunk of chunks) {
    let from = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, from)) {
      keep(chunk.subarray(from, nl));
      yield finish(offset + nl + 1);
      from = nl + 1;
    }
    if (from < chunk.length) keep(chunk.slice(from));
    offset += chunk.length;
  }
  if (length > 0 || tooLong) yield finish(offset);
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
