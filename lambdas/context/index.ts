/**
 * context: the browser-safe `POST /v1/context`, reached with the public write key (`app/context.ts`):
 * only what config marks public, by anonymousId, or by userId with a `userToken` signed with the
 * user-token secret. Its own function so its role reads only what it serves (identity and profile
 * items, write-key lookups, the write key and user-token secrets): no erasure, no read or admin key.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { KeyStore, ProfileReader, ProfileStore } from '../../app/ports';
import { readContext } from '../../app/context';
import { enforceRateLimit } from '../../app/rate-limit';
import { SourceRateLimiter } from '../../core/rate-limit';
import { ContextRequestSchema } from '../../core/context';
import { zodIssues } from '../../core/events';
import type { ScherpConfig } from '../../core/config';
import { AuthenticationError, ValidationError } from '../../core/errors';
import { BootstrapKeyStore, cachedLoader, envLoader, secretLoader, SourceKeyStore } from '../../adapters/keys';
import { onThrottled, rateLimitFromEnv } from '../shared/rate-limit';
import { scherpConfig } from '../shared/config';
import { profileStore, sourceStore } from '../shared/dynamo';
import { ENV, optionalEnv } from '../shared/env';
import { credential, errorResponse, json, parseJsonBody, type HttpResult } from '../shared/http';
import { lazy } from '../shared/lazy';

export interface ContextDeps {
  /** Only the identity and profile reads of `readContext`. */
  readonly store: ProfileStore & ProfileReader;
  /** Write keys (bootstrap and per source). */
  readonly writeKeys: KeyStore;
  readonly config: ScherpConfig;
  /** The secret user tokens are signed with (absent: user tokens are refused). */
  readonly userTokenSecret?: () => Promise<string | undefined>;
  /** Per-source request limits (`core/rate-limit.ts`); absent: none. */
  readonly rateLimiter?: SourceRateLimiter;
}

const MAX_CONTEXT_BODY = 4096;

export function createContextHandler(deps: () => ContextDeps) {
  return async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    try {
      const parsed = ContextRequestSchema.safeParse(parseJsonBody(event, MAX_CONTEXT_BODY));
      if (!parsed.success) throw new ValidationError('invalid context request', zodIssues(parsed.error, ''));
      const key = credential(event) ?? parsed.data.writeKey;
      if (!key) throw new AuthenticationError('missing write key: send it as the HTTP Basic auth user name or as writeKey');
      const { writeKeys, store, config, userTokenSecret, rateLimiter } = deps();
      const principal = await writeKeys.authenticate('write', key);
      if (!principal) throw new AuthenticationError('invalid write key');
      enforceRateLimit(rateLimiter, principal, new Date(), onThrottled);
      return json(200, await readContext(store, parsed.data, config, { userTokenSecret }));
    } catch (err) {
      return errorResponse(err);
    }
  };
}

const cloudDeps = lazy((): ContextDeps => {
  const writeArn = optionalEnv(ENV.WRITE_KEY_SECRET_ARN);
  const tokenArn = optionalEnv(ENV.USER_TOKEN_SECRET_ARN);
  const sources = sourceStore();
  return {
    store: profileStore(),
    config: scherpConfig(),
    rateLimiter: new SourceRateLimiter(rateLimitFromEnv()),
    userTokenSecret: cachedLoader(
      tokenArn ? secretLoader(new SecretsManagerClient({}), tokenArn) : envLoader(optionalEnv(ENV.USER_TOKEN_SECRET)),
    ),
    writeKeys: new SourceKeyStore(
      new BootstrapKeyStore({
        write: writeArn ? secretLoader(new SecretsManagerClient({}), writeArn) : envLoader(optionalEnv(ENV.WRITE_KEY)),
      }),
      (digest) => sources.findKey(digest),
    ),
  };
});

export const handler = createContextHandler(cloudDeps);
