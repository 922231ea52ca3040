/**
 * The settings use case: the document a browser SDK fetches before it sends (see
 * core/sdk-settings.ts). No key lookup and no storage: an unknown key gets the same document.
 */
import { analyticsJsSettings, rudderStackSourceConfig, settingsWriteKey, type ApiAddress } from '../core/sdk-settings';

export type SdkSettingsRequest =
  /** `GET /v1/projects/{writeKey}/settings` (analytics.js `cdnURL`). */
  | { readonly sdk: 'analytics.js'; readonly writeKey: string | undefined; readonly api: ApiAddress }
  /** `GET /sourceConfig?writeKey=…` (RudderStack JS `configUrl`); the key may also come as HTTP Basic auth. */
  | { readonly sdk: 'rudderstack'; readonly writeKey: string | undefined };

export function sdkSettings(req: SdkSettingsRequest): Record<string, unknown> {
  if (req.sdk === 'analytics.js') return analyticsJsSettings(settingsWriteKey(req.writeKey, 'writeKey'), req.api);
  settingsWriteKey(req.writeKey, 'writeKey');
  return rudderStackSourceConfig();
}
