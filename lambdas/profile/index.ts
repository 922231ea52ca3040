/**
 * profile: reads, and erasure.
 * - read key: `GET /v1/profiles/{type}:{value}` (the whole profile) and
 *   `GET /v1/profiles/{type}:{value}/events` (its timeline, newest first, `limit`, `cursor`);
 * - write key (public): the browser-safe `POST /v1/context`, only what config marks public, by
 *   anonymousId, or by userId with a `userToken` signed with the user-token secret;
 * - admin key: `GET /v1/profiles/{type}:{value}/export`, everything stored about the person, and
 *   `DELETE /v1/profiles/{type}:{value}`, erasing the person (`app/erase.ts`); both include the
 *   retained rejected events naming them.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CopyStore, ErasureStore, KeyStore, ProfileReader, ProfileStore, RejectedStore, RetainedCopy } from '../../app/ports';
import { cloudRetainedCopies } from './retained';
import { eraseProfile } from '../../app/erase';
import { exportProfile, readProfile, readProfileEvents } from '../../app/profiles';
import { readContext } from '../../app/context';
import { enforceRateLimit } from '../../app/rate-limit';
import { SourceRateLimiter } from '../../core/rate-limit';
import { onThrottled, rateLimitFromEnv } from '../shared/rate-limit';
import { ContextRequestSchema } from '../../core/context';
import { zodIssues } from '../../core/events';
import type { ScherpConfig } from '../../core/config';
import { AuthenticationError, ValidationError } from '../../core/errors';
import { BootstrapKeyStore, cachedLoader, envLoader, secretLoader, SourceKeyStore } from '../../adapters/keys';
import { scherpConfig } from '../shared/config';
import { debugStore, profileStore, rejectedStore, sourceStore } from '../shared/dynamo';
import { ENV, optionalEnv } from '../shared/env';
import { credential, errorResponse, json, parseJsonBody, type HttpResult } from '../shared/http';
import { lazy } from '../shared/lazy';
import { pathParam } from '../shared/admin-api';
import { logger } from '../shared/observability';

export interface ProfileDeps {
  readonly store: ProfileStore & ProfileReader & ErasureStore;
  /** Rejected events: export lists and erasure deletes those naming the person. */
  readonly rejected: RejectedStore;
  readonly keys: KeyStore;
  /** Write keys (bootstrap and per source), for the browser-safe context. */
  readonly writeKeys: KeyStore;
  readonly config: ScherpConfig;
  /** The secret user tokens of `POST /v1/context` are signed with (absent: user tokens are refused). */
  readonly userTokenSecret?: () => Promise<string | undefined>;
  /** Per-source request limits of `POST /v1/context` (`core/rate-limit.ts`); absent: none. */
  readonly rateLimiter?: SourceRateLimiter;
  /** Stores outside the table erasure reaches (locally: the bus log, queue journal, dead letters, …). */
  readonly copies?: readonly CopyStore[];
  /** Stores erasure cannot reach, named in its answer with when their copies expire. */
  readonly notReached?: readonly RetainedCopy[];
}

/** The `{id}` path parameter, already percent-decoded by API Gateway (see `pathParam`). */
function profileKey(event: APIGatewayProxyEventV2): string {
  return pathParam(event, 'id');
}

function limitParam(event: APIGatewayProxyEventV2): number | undefined {
  const raw = event.queryStringParameters?.limit;
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new ValidationError('limit must be an integer', [{ path: 'limit', message: 'must be an integer' }]);
  return Number(raw);
}

const MAX_CONTEXT_BODY = 4096;

export function createProfileHandler(deps: () => ProfileDeps) {
  const context = async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    const parsed = ContextRequestSchema.safeParse(parseJsonBody(event, MAX_CONTEXT_BODY));
    if (!parsed.success) throw new ValidationError('invalid context request', zodIssues(parsed.error, ''));
    const key = credential(event) ?? parsed.data.writeKey;
    if (!key) throw new AuthenticationError('missing write key: send it as the HTTP Basic auth user name or as writeKey');
    const principal = await deps().writeKeys.authenticate('write', key);
    if (!principal) throw new AuthenticationError('invalid write key');
    const { store, config, userTokenSecret, rateLimiter } = deps();
    enforceRateLimit(rateLimiter, principal, new Date(), onThrottled);
    return json(200, await readContext(store, parsed.data, config, { userTokenSecret }));
  };
  return async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    try {
      if (event.routeKey === 'POST /v1/context') return await context(event);
      if (event.routeKey === 'GET /v1/profiles/{id}/export' || event.routeKey === 'DELETE /v1/profiles/{id}') {
        const admin = credential(event);
        if (!admin || !(await deps().keys.authenticate('admin', admin))) throw new AuthenticationError('missing or invalid admin key');
        const { store, rejected, config, copies, notReached } = deps();
        if (event.routeKey === 'GET /v1/profiles/{id}/export') return json(200, await exportProfile(store, profileKey(event), config.identity, { rejected }));
        const result = await eraseProfile(store, profileKey(event), { identity: config.identity, suppress: config.privacy.suppressErased, rejected, copies, notReached });
        logger.info('profile erased', { ...result.erased, copies: { ...result.erased.copies } });
        return json(200, result);
      }
      const key = credential(event);
      if (!key) throw new AuthenticationError('missing read key: send it as the HTTP Basic auth user name');
      if (!(await deps().keys.authenticate('read', key))) throw new AuthenticationError('invalid read key');
      const { store, config } = deps();
      if (event.routeKey === 'GET /v1/profiles/{id}/events') {
        return json(200, await readProfileEvents(store, profileKey(event), { limit: limitParam(event), cursor: event.queryStringParameters?.cursor }, config.identity));
      }
      return json(200, await readProfile(store, profileKey(event), config.identity));
    } catch (err) {
      return errorResponse(err);
    }
  };
}

const cloudDeps = lazy((): ProfileDeps => {
  const secretArn = optionalEnv(ENV.READ_KEY_SECRET_ARN);
  const writeArn = optionalEnv(ENV.WRITE_KEY_SECRET_ARN);
  const adminArn = optionalEnv(ENV.ADMIN_KEY_SECRET_ARN);
  const tokenArn = optionalEnv(ENV.USER_TOKEN_SECRET_ARN);
  const sources = sourceStore();
  return {
    store: profileStore(),
    rejected: rejectedStore(),
    config: scherpConfig(),
    rateLimiter: new SourceRateLimiter(rateLimitFromEnv()),
    userTokenSecret: cachedLoader(tokenArn ? secretLoader(new SecretsManagerClient({}), tokenArn) : envLoader(optionalEnv(ENV.USER_TOKEN_SECRET))),
    notReached: cloudRetainedCopies(),
    // The debugger's entries (minutes-lived copies of events) are erased too.
    copies: [debugStore()],
    keys: new BootstrapKeyStore({
      read: secretArn ? secretLoader(new SecretsManagerClient({}), secretArn) : envLoader(optionalEnv(ENV.READ_KEY)),
      admin: adminArn ? secretLoader(new SecretsManagerClient({}), adminArn) : envLoader(optionalEnv(ENV.ADMIN_KEY)),
    }),
    writeKeys: new SourceKeyStore(
      new BootstrapKeyStore({ write: writeArn ? secretLoader(new SecretsManagerClient({}), writeArn) : envLoader(optionalEnv(ENV.WRITE_KEY)) }),
      (digest) => sources.findKey(digest),
    ),
  };
});

export const handler = createProfileHandler(cloudDeps);
