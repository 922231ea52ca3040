/**
 * console: the browser console, from the same origin as the API (docs/architecture.md "Console").
 *   GET /console → 308 /console/
 *   GET /console/assets/app.js | app.css → the asset (no-cache); another asset → 404
 *   GET /console/{any page} → index.html (so shareable URLs open the right page)
 * The built files sit next to this handler (`console/`, bundled at synth or by the package
 * build); the answers are the local server's (`serve.ts`). No table, no secret: the page signs in
 * with a key the browser keeps and sends to the API itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { CONSOLE_ASSETS_FOLDER, type ConsoleBundle, type ConsoleFile, consoleContentType, serveConsole } from './serve';

/** The built console in `dir`: every file the console serves, by name. */
export function loadConsoleBundle(dir: string): ConsoleBundle {
  const files = new Map<string, ConsoleFile>();
  for (const name of readdirSync(dir)) {
    const contentType = consoleContentType(name);
    if (contentType) files.set(name, { contentType, body: readFileSync(join(dir, name)) });
  }
  return files;
}

export function createConsoleHandler(bundle: () => ConsoleBundle) {
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const res = serveConsole(bundle(), event.requestContext.http.method, event.rawPath);
    return { statusCode: res.status, headers: res.headers, body: res.body.toString('utf8'), isBase64Encoded: false };
  };
}

let loaded: ConsoleBundle | undefined;
export const handler = createConsoleHandler(() => {
  loaded ??= loadConsoleBundle(join(__dirname, CONSOLE_ASSETS_FOLDER));
  return loaded;
});
