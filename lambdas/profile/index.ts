/**
 * profile: reads, and erasure (the browser-safe `POST /v1/context` is the `context` function).
 * - read key: `GET /v1/profiles/{type}:{value}` (the whole profile),
 *   `GET /v1/profiles/{type}:{value}/events` (its timeline, newest first, `limit`, `cursor`) and
 *   `GET /v1/profiles/{type}:{value}/identity` (its identity graph explained, `app/identity-graph.ts`);
 * - admin key: `GET /v1/profiles/{type}:{value}/export`, everything stored about the person, and
 *   `DELETE /v1/profiles/{type}:{value}`, erasing the person (`app/erase.ts`); both include the
 *   retained rejected events naming them. (Split, release and lifting a suppression write: the
 *   `identity` function.)
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type {
  CopyStore,
  ErasureStore,
  IdentityGraphStore,
  KeyStore,
  PersonalizationStore,
  ProfileReader,
  ProfileStore,
  RejectedStore,
  RetainedCopy,
} from '../../app/ports';
import { explainIdentity } from '../../app/identity-graph';
import { DynamoPersonalizationStore } from '../../adapters/dynamo/personalization-store';
import { cloudRetainedCopies } from './retained';
import { eraseProfile } from '../../app/erase';
import { exportProfile, readProfile, readProfileEvents } from '../../app/profiles';
import type { ScherpConfig } from '../../core/config';
import { AuthenticationError, ValidationError } from '../../core/errors';
import { BootstrapKeyStore, envLoader, secretLoader } from '../../adapters/keys';
import { scherpConfig } from '../shared/config';
import { debugStore, dynamo, profileStore, rejectedStore, tableName } from '../shared/dynamo';
import { ENV, optionalEnv } from '../shared/env';
import { credential, errorResponse, json, type HttpResult } from '../shared/http';
import { lazy } from '../shared/lazy';
import { pathParam } from '../shared/admin-api';
import { logger } from '../shared/observability';
import { OPENAPI_PATH } from '../routes';
import { brotliDecompressSync } from 'node:zlib';
import { OPENAPI_BROTLI_BASE64 } from './openapi-document';

/** `docs/openapi.json`, kept compressed in the bundle (`npm run openapi` writes both) and inflated on the first request for it. */
const openApiText = lazy(() => brotliDecompressSync(Buffer.from(OPENAPI_BROTLI_BASE64, 'base64')).toString('utf8'));

export interface ProfileDeps {
  readonly store: ProfileStore & ProfileReader & ErasureStore & IdentityGraphStore;
  /** Rejected events: export lists and erasure deletes those naming the person. */
  readonly rejected: RejectedStore;
  readonly keys: KeyStore;
  readonly config: ScherpConfig;
  /** Stores outside the table erasure reaches (locally: the bus log, queue journal, dead letters, …). */
  readonly copies?: readonly CopyStore[];
  /** Stores erasure cannot reach, named in its answer with when their copies expire. */
  readonly notReached?: readonly RetainedCopy[];
  /** Audience membership, which erasure empties (member items and counts). */
  readonly memberships?: Pick<PersonalizationStore, 'loadParts' | 'saveAudiences'>;
}

/** The `{id}` path parameter, already percent-decoded by API Gateway (see `pathParam`). */
function profileKey(event: APIGatewayProxyEventV2): string {
  return pathParam(event, 'id');
}

/** The routes that take the admin key. */
const ADMIN_ROUTES = new Set(['GET /v1/profiles/{id}/export', 'DELETE /v1/profiles/{id}']);

function limitParam(event: APIGatewayProxyEventV2): number | undefined {
  const raw = event.queryStringParameters?.limit;
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new ValidationError('limit must be an integer', [{ path: 'limit', message: 'must be an integer' }]);
  return Number(raw);
}

export function createProfileHandler(deps: () => ProfileDeps) {
  return async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    try {
      // The API reference is public (no key): `docs/openapi.json`, bundled here rather than in
      // collect, which stays small on the hot path; the generator itself is in no bundle.
      if (event.routeKey === `GET ${OPENAPI_PATH}`)
        return { statusCode: 200, headers: { ...json(200, {}).headers, 'cache-control': 'public, max-age=300' }, body: openApiText() };
      if (ADMIN_ROUTES.has(event.routeKey)) {
        const admin = credential(event);
        if (!admin || !(await deps().keys.authenticate('admin', admin))) throw new AuthenticationError('missing or invalid admin key');
        const { store, rejected, config, copies, notReached, memberships } = deps();
        if (event.routeKey === 'GET /v1/profiles/{id}/export')
          return json(200, await exportProfile(store, profileKey(event), config.identity, { rejected }));
        const result = await eraseProfile(store, profileKey(event), {
          identity: config.identity,
          suppress: config.privacy.suppressErased,
          rejected,
          copies,
          notReached,
          memberships,
        });
        logger.info('profile erased', { ...result.erased, copies: { ...result.erased.copies } });
        return json(200, result);
      }
      const key = credential(event);
      if (!key) throw new AuthenticationError('missing read key: send it as the HTTP Basic auth user name');
      // The admin key reads too (the console signs in with one key for everything).
      const keys = deps().keys;
      if (!(await keys.authenticate('read', key)) && !(await keys.authenticate('admin', key)))
        throw new AuthenticationError('invalid read key');
      const { store, config } = deps();
      if (event.routeKey === 'GET /v1/profiles/{id}/identity')
        return json(200, await explainIdentity(store, profileKey(event), config.identity));
      if (event.routeKey === 'GET /v1/profiles/{id}/events') {
        return json(
          200,
          await readProfileEvents(
            store,
            profileKey(event),
            { limit: limitParam(event), cursor: event.queryStringParameters?.cursor },
            config.identity,
          ),
        );
      }
      return json(200, await readProfile(store, profileKey(event), config.identity));
    } catch (err) {
      return errorResponse(err);
    }
  };
}

const cloudDeps = lazy((): ProfileDeps => {
  const secretArn = optionalEnv(ENV.READ_KEY_SECRET_ARN);
  const adminArn = optionalEnv(ENV.ADMIN_KEY_SECRET_ARN);
  return {
    store: profileStore(),
    rejected: rejectedStore(),
    config: scherpConfig(),
    notReached: cloudRetainedCopies(),
    // The debugger's entries (minutes-lived copies of events) are erased too.
    copies: [debugStore()],
    memberships: new DynamoPersonalizationStore(dynamo(), tableName()),
    keys: new BootstrapKeyStore({
      read: secretArn ? secretLoader(new SecretsManagerClient({}), secretArn) : envLoader(optionalEnv(ENV.READ_KEY)),
      admin: adminArn ? secretLoader(new SecretsManagerClient({}), adminArn) : envLoader(optionalEnv(ENV.ADMIN_KEY)),
    }),
  };
});

export const handler = createProfileHandler(cloudDeps);
