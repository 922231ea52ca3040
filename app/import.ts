/**
 * Enrichment import (`POST /v1/import`, admin key): rows of identifier + traits tagged with a
 * source become `identify` events of that source and go through the ingest queue like any other
 * event (deduplicated by message id, stitched, traits ranked by time and source precedence).
 */
import type { ScherpConfig } from '../core/config';
import { LimitExceededError, NotFoundError } from '../core/errors';
import { MAX_IMPORT_ROWS, parseImport, type ImportFormat, type ImportRowError } from '../core/import';
import { DEFAULT_SOURCE, sourceTrust, type Source } from '../core/sources';
import type { EventQueue, SourceStore } from './ports';

export interface ImportDeps {
  readonly queue: EventQueue;
  readonly sources: SourceStore;
  readonly config: ScherpConfig;
  readonly now?: () => Date;
}

export interface ImportRequest {
  readonly text: string;
  readonly format: ImportFormat;
  /** A source id or a source name. */
  readonly source: string;
  /** The file line of the text's first line (the CLI sends files in chunks). @default 1 */
  readonly firstLine?: number;
}

export interface ImportResult {
  readonly sourceId: string;
  readonly imported: number;
  readonly errors: readonly ImportRowError[];
}

/** The source named by id or name (the default source by its id). */
export async function findSource(sources: SourceStore, idOrName: string): Promise<Source> {
  if (idOrName === DEFAULT_SOURCE.id) return DEFAULT_SOURCE;
  const byId = await sources.getSource(idOrName);
  if (byId) return byId.source;
  const byName = (await sources.listSources()).find((s) => s.source.name === idOrName);
  if (byName) return byName.source;
  throw new NotFoundError(`no source with the id or name "${idOrName}": create it with POST /v1/sources`);
}

export async function importRows(deps: ImportDeps, req: ImportRequest): Promise<ImportResult> {
  const rows = req.text.split(/\r?\n/).filter((l) => l.trim() !== '').length;
  if (rows > MAX_IMPORT_ROWS + 1)
    throw new LimitExceededError(
      `${rows} lines; at most ${MAX_IMPORT_ROWS} rows per request (the CLI sends files in chunks)`,
      'maxImportRows',
    );
  const source = await findSource(deps.sources, req.source);
  const r = await queueRows(deps, source, req.text, req.format, (deps.now?.() ?? new Date()).toISOString(), req.firstLine ?? 1);
  return { sourceId: source.id, ...r };
}

/**
 * Parses rows of a source and queues the valid ones: all of them or, on an error, none counted
 * (the caller retries the whole text; the rows' message ids make that safe). `receivedAt` is the
 * time of rows without a timestamp.
 */
export async function queueRows(
  deps: Pick<ImportDeps, 'queue' | 'config'>,
  source: Source,
  text: string,
  format: ImportFormat,
  receivedAt: string,
  firstLine: number,
): Promise<{ imported: number; errors: ImportRowError[] }> {
  const parsed = parseImport(
    text,
    format,
    {
      sourceId: source.id,
      party: source.party,
      sourceName: source.name,
      trust: sourceTrust(source),
      receivedAt,
      identity: deps.config.identity,
    },
    firstLine,
  );
  if (parsed.events.length > 0) await deps.queue.send(parsed.events);
  return { imported: parsed.events.length, errors: parsed.errors };
}
