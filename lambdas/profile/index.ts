/**
 * profile: the profile API, authenticated with the read key.
 * `GET /v1/profiles/{type}:{value}` (the whole profile) and `GET /v1/profiles/{type}:{value}/events`
 * (its timeline, newest first, `limit` and `cursor`).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { KeyStore, ProfileReader, ProfileStore } from '../../app/ports';
import { readProfile, readProfileEvents } from '../../app/profiles';
import type { ScherpConfig } from '../../core/config';
import { AuthenticationError, ValidationError } from '../../core/errors';
import { BootstrapKeyStore, envLoader, secretLoader } from '../../adapters/keys';
import { scherpConfig } from '../shared/config';
import { profileStore } from '../shared/dynamo';
import { ENV, optionalEnv } from '../shared/env';
import { credential, errorResponse, json, type HttpResult } from '../shared/http';
import { lazy } from '../shared/lazy';

export interface ProfileDeps {
  readonly store: ProfileStore & ProfileReader;
  readonly keys: KeyStore;
  readonly config: ScherpConfig;
}

function profileKey(event: APIGatewayProxyEventV2): string {
  return decodeURIComponent(event.pathParameters?.id ?? '');
}

function limitParam(event: APIGatewayProxyEventV2): number | undefined {
  const raw = event.queryStringParameters?.limit;
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new ValidationError('limit must be an integer', [{ path: 'limit', message: 'must be an integer' }]);
  return Number(raw);
}

export function createProfileHandler(deps: () => ProfileDeps) {
  return async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    try {
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
  return {
    store: profileStore(),
    config: scherpConfig(),
    keys: new BootstrapKeyStore({
      read: secretArn ? secretLoader(new SecretsManagerClient({}), secretArn) : envLoader(optionalEnv(ENV.READ_KEY)),
    }),
  };
});

export const handler = createProfileHandler(cloudDeps);
