/**
 * Every attribute of every item of a test table as text, to search for what an erasure must have
 * taken out: attribute names, values, and binary attributes inflated (timeline events).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inflateRawSync } from 'node:zlib';
import { scanTable } from './dynamo';

export async function tableTexts(doc: DynamoDBDocumentClient, tableName: string): Promise<string[]> {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof Uint8Array) {
      out.push(Buffer.from(v).toString('latin1'));
      try {
        out.push(inflateRawSync(Buffer.from(v)).toString('utf8'));
      } catch {
        // Not deflated.
      }
    } else if (Array.isArray(v) || v instanceof Set) for (const x of v) walk(x);
    else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        out.push(k);
        walk(x);
      }
    else out.push(String(v));
  };
  for (const item of await scanTable(doc, tableName)) walk(item);
  return out;
}

/** The texts that contain any of the values (case-insensitive). */
export const naming = (texts: readonly string[], values: readonly string[]): string[] =>
  texts.filter((s) => values.some((v) => s.toLowerCase().includes(v.toLowerCase())));
