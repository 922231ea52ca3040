/**
 * The client side of `scherp import FILE --source NAME`: sends a NDJSON or CSV file to
 * `POST /v1/import` in chunks of at most 1,000 rows (CSV chunks repeat the header), keeping the
 * file's line numbers in the errors. Each chunk is retried as a whole on a network error or 5xx
 * (rows carry deterministic message ids, so a repeat changes nothing).
 */
import { readFileSync } from 'node:fs';
import { MAX_IMPORT_ROWS, type ImportFormat, type ImportRowError } from '../core/import';

export interface ImportFileOptions {
  readonly file: string;
  readonly source: string;
  readonly url: string;
  readonly adminKey: string;
  readonly format?: ImportFormat;
  /** Rows per request. @default 1,000 (the API's limit) */
  readonly chunkRows?: number;
  /** Called after each chunk with rows sent so far and the total. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ImportFileResult {
  readonly imported: number;
  readonly errors: ImportRowError[];
}

const RETRIES = 3;

export async function importFile(opts: ImportFileOptions): Promise<ImportFileResult> {
  const format = opts.format ?? (opts.file.toLowerCase().endsWith('.csv') ? 'csv' : 'ndjson');
  const lines = readFileSync(opts.file, 'utf8').split(/\r?\n/);
  const headerIndex = format === 'csv' ? lines.findIndex((l) => l.trim() !== '') : -1;
  const header = headerIndex >= 0 ? lines[headerIndex]! : undefined;
  const first = headerIndex + 1;
  const total = lines.slice(first).filter((l) => l.trim() !== '').length;
  let imported = 0;
  let done = 0;
  const errors: ImportRowError[] = [];
  const size = Math.min(opts.chunkRows ?? MAX_IMPORT_ROWS, MAX_IMPORT_ROWS);
  for (let start = first; start < lines.length; start += size) {
    const chunk = lines.slice(start, start + size);
    if (chunk.every((l) => l.trim() === '')) continue;
    // CSV: the header goes first, numbered as the line just before the chunk, so row numbers stay the file's.
    const text = header !== undefined ? [header, ...chunk].join('\n') : chunk.join('\n');
    const firstLine = header !== undefined ? start : start + 1;
    const query = new URLSearchParams({ source: opts.source, format, firstLine: String(firstLine) });
    const body = await send(`${opts.url}/v1/import?${query}`, opts.adminKey, text, format);
    imported += body.imported;
    errors.push(...body.errors.filter((e) => header === undefined || e.line !== firstLine || start === first));
    done += chunk.filter((l) => l.trim() !== '').length;
    opts.onProgress?.(done, total);
  }
  return { imported, errors };
}

async function send(url: string, key: string, text: string, format: ImportFormat): Promise<{ imported: number; errors: ImportRowError[] }> {
  let last: unknown;
  for (let attempt = 0; attempt < RETRIES; attempt++) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}`,
          'content-type': format === 'csv' ? 'text/csv' : 'application/x-ndjson',
        },
        body: text,
      });
      const body = (await res.json()) as { imported: number; errors: ImportRowError[]; message?: string };
      if (res.ok) return body;
      if (res.status < 500) throw new Error(`import refused (${res.status}): ${body.message ?? JSON.stringify(body)}`);
      last = new Error(`import failed (${res.status})`);
    } catch (err) {
      if ((err as Error).message.startsWith('import refused')) throw err;
      last = err;
    }
    await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
  }
  throw last;
}

/** `[#####-----]  50%  500/1000 rows` */
export function progressBar(done: number, total: number, width = 30, unit = 'rows'): string {
  const f = total === 0 ? 1 : done / total;
  const filled = Math.round(f * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(f * 100)).padStart(3)}%  ${done}/${total} ${unit}`;
}
