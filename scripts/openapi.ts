/**
 * `npm run openapi`: writes the OpenAPI document (`core/openapi.ts`, every route of
 * `lambdas/routes.ts`) to `docs/openapi.json`, the file collect serves at `GET /v1/openapi.json`.
 * `test/unit/openapi.test.ts` fails while the file is stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument } from '../core/openapi';
import { API_ROUTES } from '../lambdas/routes';
import { version } from '../package.json';

export const OPENAPI_FILE = join(__dirname, '..', 'docs', 'openapi.json');

/** The file's text: the document, pretty-printed, with a final newline. */
export function openApiText(): string {
  return `${JSON.stringify(openApiDocument(API_ROUTES, version), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(OPENAPI_FILE, openApiText());
  console.error(`wrote ${OPENAPI_FILE} (${API_ROUTES.length} routes)`);
}
