/**
 * Validating requests and responses against the OpenAPI document (`docs/openapi.json`) with ajv
 * (JSON Schema 2020-12, the dialect of OpenAPI 3.1; the `$ref`s resolve inside the document).
 */
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { OPENAPI_FILE } from '../../scripts/openapi';

export type OpenApiDoc = { paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>> };

/** A validator over `doc` (by default the committed `docs/openapi.json`). */
export function openApiValidator(doc: OpenApiDoc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDoc) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ ...doc, $id: 'scherp-openapi' });
  const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
  const errorsAt = (what: string, parts: string[], value: unknown): string[] => {
    const validate = ajv.getSchema(`scherp-openapi#/${pointer(...parts)}`);
    if (!validate) throw new Error(`the document has no ${what}`);
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`);
  };
  return {
    /** The faults of `body` as the request body of `method path` (empty: valid). */
    requestErrors: (method: string, path: string, body: unknown, type = 'application/json') =>
      errorsAt(
        `request schema for ${method} ${path} (${type})`,
        ['paths', path, method.toLowerCase(), 'requestBody', 'content', type, 'schema'],
        body,
      ),
    /** The faults of `body` as the `status` answer of `method path` (empty: valid); a shared response is followed. */
    responseErrors: (method: string, path: string, status: number, body: unknown) => {
      const response = doc.paths[path]?.[method.toLowerCase()]?.responses[String(status)] as { $ref?: string } | undefined;
      const at = response?.$ref
        ? response.$ref.replace(/^#\//, '').split('/')
        : ['paths', path, method.toLowerCase(), 'responses', String(status)];
      return errorsAt(`${status} response schema for ${method} ${path}`, [...at, 'content', 'application/json', 'schema'], body);
    },
  };
}
