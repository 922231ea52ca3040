/**
 * Sources of the local runtime: the table's (`DynamoSourceStore`), and for each source a folder
 * `imports/<source>/` in the local import bucket, so a user sees where to drop its files. The
 * folders of the stored sources are made at start, a new source's when it is created. (In the
 * cloud the bucket has no folders: any key under `imports/<source>/` works.)
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoSourceStore } from '../adapters/dynamo/source-store';
import { IMPORTS_PREFIX } from '../core/import-job';
import { DEFAULT_SOURCE, type Source, type SourceKey } from '../core/sources';
import type { FolderObjectStore } from './file-drop';

/** A source's folder under `imports/`: its name when that is a plain folder name, else its id. */
export function sourceFolder(source: Source): string {
  if (source.id === DEFAULT_SOURCE.id) return DEFAULT_SOURCE.id;
  const plain = !/[/\\\u0000-\u001f\u007f]/.test(source.name) && !source.name.startsWith('.') && source.name.trim() === source.name;
  return plain ? source.name : source.id;
}

export class LocalSourceStore extends DynamoSourceStore {
  constructor(
    doc: DynamoDBDocumentClient,
    tableName: string,
    private readonly objects: FolderObjectStore,
  ) {
    super(doc, tableName);
  }

  override async createSource(source: Source, key: SourceKey, digest: string): Promise<boolean> {
    const created = await super.createSource(source, key, digest);
    if (created) this.createFolder(source);
    return created;
  }

  /** The folders of the default source and of every stored one. */
  async createFolders(): Promise<void> {
    this.createFolder(DEFAULT_SOURCE);
    for (const { source } of await this.listSources()) this.createFolder(source);
  }

  private createFolder(source: Source): void {
    try {
      this.objects.createFolder(`${IMPORTS_PREFIX}${sourceFolder(source)}/`);
    } catch (err) {
      // The source exists either way; only the convenience folder is missing.
      process.stderr.write(`scherp: no import folder for source ${source.id}: ${(err as Error).message}\n`);
    }
  }
}
