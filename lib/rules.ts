import * as fs from 'node:fs';
import * as path from 'node:path';
import { ValidationError } from '../core/errors';
import { parseDefinition } from '../core/rules/engine';

/**
 * A rule document as stored in `rules/*.json`: `id` keys the DynamoDB item and the custom
 * resource; the whole document is checked at synth against the rules API's schema
 * ({@link ruleDocumentErrors}).
 */
export interface RuleDocument {
  readonly id: string;
  readonly [field: string]: unknown;
}

/**
 * Scherp's example rules (`rules/`, shipped in the package): what `npm start` and this
 * repository's stack seed. The construct seeds them only when given as `rulesDir`.
 */
export const DEFAULT_RULES_DIR = path.join(__dirname, '..', 'rules');

/** Reads every `*.json` file of `dir` (sorted by file name) as a rule document. */
export function loadRules(dir: string): RuleDocument[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new Error(`rulesDir ${dir} is not a directory`);
  }
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => parseRule(path.join(dir, file)));
}

function parseRule(file: string): RuleDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`rule file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isRuleDocument(doc)) throw new Error(`rule file ${file} must be an object with a non-empty string "id"`);
  return doc;
}

/** True when `doc` is an object whose `id` is a non-empty string. */
export function isRuleDocument(doc: unknown): doc is RuleDocument {
  return (
    typeof doc === 'object' &&
    doc !== null &&
    !Array.isArray(doc) &&
    typeof (doc as { id?: unknown }).id === 'string' &&
    (doc as { id: string }).id.length > 0
  );
}

/**
 * What is wrong with a rule or audience document, by field path, as the rules API would answer
 * (the shared zod schema of `core/rules`); empty when it is valid.
 */
export function ruleDocumentErrors(doc: unknown): string[] {
  try {
    parseDefinition(doc);
    return [];
  } catch (err) {
    if (err instanceof ValidationError) return err.issues.map((i) => `${i.path} ${i.message}`);
    return [(err as Error).message];
  }
}
