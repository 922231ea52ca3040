/**
 * The configuration documents browser SDKs fetch before they send anything, so that they work
 * against Scherp with only the host changed. Pure: built from the write key and the address the
 * request reached Scherp at, never from stored data.
 *
 * - analytics.js (`@segment/analytics-next`) fetches `{cdnURL}/v1/projects/{writeKey}/settings`
 *   and sends to `integrations["Segment.io"].apiHost` (host and path, no scheme) with
 *   `protocol`; with no other integration it loads nothing else.
 * - RudderStack JS v3 (`@rudderstack/analytics-js`) fetches `{configUrl}/sourceConfig/?…&writeKey=…`
 *   and needs `source.id`, `source.config` and `source.destinations` (an array).
 *
 * The documents do not depend on whether the key exists: an unknown key gets the same document
 * (its events are then refused with 401 by collect), so the routes tell nobody which keys are
 * valid and cost no key lookup on a page view.
 */
import { ValidationError } from './errors';

/** Where the request reached Scherp: the scheme, the host and any base path before the route. */
export interface ApiAddress {
  readonly protocol: 'http' | 'https';
  readonly host: string;
  /** The path in front of Scherp's routes (a custom domain's API mapping), `''` for none. */
  readonly basePath: string;
}

/** Longest write key the settings routes accept (Scherp's keys are 32 hex characters). */
export const MAX_WRITE_KEY_LENGTH = 200;

/** The write key of a settings request, checked for shape only: 1–200 printable characters without `/`. */
export function settingsWriteKey(raw: string | undefined, path: string): string {
  const key = raw?.trim();
  if (!key) throw new ValidationError(`${path} is required`, [{ path, message: 'is required: the source write key' }]);
  if (key.length > MAX_WRITE_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key) || key.includes('/')) {
    throw new ValidationError(`${path} is not a write key`, [
      { path, message: `must be 1-${MAX_WRITE_KEY_LENGTH} printable ASCII characters without "/"` },
    ]);
  }
  return key;
}

/** The settings document analytics.js loads from its `cdnURL`. */
export function analyticsJsSettings(writeKey: string, api: ApiAddress): Record<string, unknown> {
  return {
    integrations: {
      'Segment.io': { apiKey: writeKey, apiHost: `${api.host}${api.basePath}/v1`, protocol: api.protocol, addBundledMetadata: false },
    },
    // No remote metrics (they would go to Segment's API), no remote plugins or middleware.
    metrics: { sampleRate: 0 },
    remotePlugins: [],
    enabledMiddleware: {},
    middlewareSettings: {},
    legacyVideoPluginsEnabled: false,
  };
}

/** The source configuration RudderStack JS v3 loads from its `configUrl`. */
export function rudderStackSourceConfig(): Record<string, unknown> {
  return {
    isHosted: false,
    source: {
      id: 'scherp',
      name: 'Scherp',
      enabled: true,
      workspaceId: 'scherp',
      // No error or metrics reporting to RudderStack; no device-mode destinations to load.
      config: { statsCollection: { errors: { enabled: false }, metrics: { enabled: false } } },
      destinations: [],
    },
  };
}
