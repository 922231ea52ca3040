/**
 * Enrichment import: rows of an identifier plus traits (NDJSON or CSV), each turned into an
 * `identify` event of the importing source, so imported traits go the same way as every other
 * trait (provenance, source precedence, identity resolution). Pure.
 *
 * NDJSON: one object per line, `{"id": "email:ada@example.com", "traits": {…}, "timestamp"?: ISO}`.
 * CSV: a header row; the identifier is the column `id` (`type:value`) or the first column named
 * after an identifier type (`email`, `user_id`, …); every other non-empty cell is a trait.
 *
 * Each row's message id is a hash of the source and the row's content, so importing the same
 * file again is recognised as a repeat by ingestion deduplication and changes nothing.
 */
import { createHash } from 'node:crypto';
import type { IdentityConfig } from './config';
import { EXTERNAL_IDS_SOURCE } from './config';
import type { Party, ScherpEvent, Trust } from './events';
import { isSafeKey, MAX_TRAITS_PER_CALL } from './profile';
import { normaliseIdentifier, parseIdentifierKey } from './identity';
import { cleanJson } from './ingest';
import { dict, own } from './dict';
import { parseJson } from './numbers';

export type ImportFormat = 'ndjson' | 'csv';

export interface ImportRowError {
  /** 1-based line number in the file. */
  readonly line: number;
  readonly reason: string;
}

export interface ParsedImport {
  readonly events: ScherpEvent[];
  readonly errors: ImportRowError[];
}

export interface ImportContext {
  readonly sourceId: string;
  readonly party?: Party;
  /** Stamped onto each row's event (`event.sourceName` in rules). */
  readonly sourceName?: string;
  /** The source's trust level (absent: public). */
  readonly trust?: Trust;
  /** Time of rows without their own timestamp (ISO). */
  readonly receivedAt: string;
  readonly identity: IdentityConfig;
}

/** Most rows one request may carry (the CLI sends files in chunks of this many lines). */
export const MAX_IMPORT_ROWS = 1000;

/** Splits one CSV line (RFC 4180 quoting; a quoted field cannot span lines). */
export function splitCsvLine(line: string): string[] | undefined {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur === '') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (quoted) return undefined;
  out.push(cur);
  return out;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = target;
  for (const p of parts.slice(0, -1)) {
    if (typeof own(cur, p) !== 'object' || cur[p] === null) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]!] = value;
}

/** One row as an identify event, or the reason it cannot be one. */
function rowEvent(ctx: ImportContext, idKey: unknown, traits: unknown, timestamp: unknown, raw: string): ScherpEvent | string {
  if (typeof idKey !== 'string') return 'id is missing: give it as type:value, e.g. email:ada@example.com';
  const id = parseIdentifierKey(idKey);
  if (!id) return 'id must be type:value, e.g. email:ada@example.com';
  const type = own(ctx.identity.types, id.type);
  if (!type) return `unknown identifier type "${id.type}"; one of ${Object.keys(ctx.identity.types).join(', ')}`;
  const n = normaliseIdentifier(id.type, id.value, ctx.identity);
  if (!n.ok) return `id is not a valid ${id.type} (${n.reason})`;
  if (traits === null || typeof traits !== 'object' || Array.isArray(traits)) return 'traits must be an object';
  const clean = cleanJson(traits) as Record<string, unknown> | undefined;
  if (!clean) return 'traits nest too deep';
  const entries = Object.entries(clean).filter(([k, v]) => isSafeKey(k) && v !== undefined);
  if (entries.length === 0) return 'no traits';
  if (entries.length > MAX_TRAITS_PER_CALL) return `has ${entries.length} traits; at most ${MAX_TRAITS_PER_CALL} per row`;
  let ts = ctx.receivedAt;
  if (timestamp !== undefined) {
    if (typeof timestamp !== 'string' || Number.isNaN(Date.parse(timestamp))) return 'timestamp must be an ISO-8601 date';
    ts = new Date(timestamp).toISOString();
  }
  const event: Record<string, unknown> = {
    type: 'identify',
    messageId: `import-${createHash('sha256').update(`${ctx.sourceId}\u0000${raw}`).digest('hex').slice(0, 32)}`,
    sourceId: ctx.sourceId,
    ...(ctx.party ? { party: ctx.party } : {}),
    ...(ctx.sourceName ? { sourceName: ctx.sourceName } : {}),
    ...(ctx.trust === 'trusted' ? { trust: 'trusted' as const } : {}),
    timestamp: ts,
    receivedAt: ctx.receivedAt,
    traits: Object.fromEntries(entries),
  };
  const from = type.from[0]!;
  if (from === EXTERNAL_IDS_SOURCE)
    setPath(event, 'context.externalIds', [{ id: n.value, type: id.type, collection: 'users', encoding: 'none' }]);
  else setPath(event, from, n.value);
  return event as unknown as ScherpEvent;
}

/** Parses a file's text; rows with errors are reported by line, the others become events. */
export function parseImport(text: string, format: ImportFormat, ctx: ImportContext, firstLine = 1): ParsedImport {
  const lines = text.split(/\r?\n/);
  const events: ScherpEvent[] = [];
  const errors: ImportRowError[] = [];
  const fail = (i: number, reason: string) => errors.push({ line: firstLine + i, reason });
  let header: string[] | undefined;
  let idColumn = -1;
  let idType: string | undefined;
  let headerFailed = false;
  lines.forEach((line, i) => {
    if (line.trim() === '' || headerFailed) return;
    if (format === 'ndjson') {
      let row: unknown;
      try {
        row = parseJson(line);
      } catch {
        return fail(i, 'not valid JSON');
      }
      if (row === null || typeof row !== 'object' || Array.isArray(row)) return fail(i, 'must be a JSON object');
      const r = row as Record<string, unknown>;
      const e = rowEvent(ctx, r.id, r.traits, r.timestamp, line);
      return typeof e === 'string' ? fail(i, e) : void events.push(e);
    }
    const cells = splitCsvLine(line);
    if (!cells) return fail(i, 'unterminated quoted field');
    if (!header) {
      header = cells.map((c) => c.trim());
      idColumn = header.indexOf('id');
      if (idColumn === -1) {
        idColumn = header.findIndex((h) => own(ctx.identity.types, h) !== undefined);
        idType = header[idColumn];
      }
      if (idColumn === -1) {
        headerFailed = true;
        return fail(
          i,
          `the header needs an id column (type:value) or one named after an identifier type (${Object.keys(ctx.identity.types).join(', ')})`,
        );
      }
      return;
    }
    if (cells.length !== header.length) return fail(i, `has ${cells.length} fields; the header has ${header.length}`);
    const traits = dict<unknown>();
    let timestamp: string | undefined;
    header.forEach((h, c) => {
      if (c === idColumn || cells[c] === '') return;
      if (h === 'timestamp') timestamp = cells[c];
      else traits[h] = cells[c];
    });
    const idCell = cells[idColumn]!;
    const e = rowEvent(ctx, idType ? `${idType}:${idCell}` : idCell, traits, timestamp, line);
    return typeof e === 'string' ? fail(i, e) : void events.push(e);
  });
  return { events, errors };
}
