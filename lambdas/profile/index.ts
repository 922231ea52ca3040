/**
 * profile: GET /v1/profiles/{type}:{value}, authenticated with the read key.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { KeyStore, ProfileStore } from '../../app/ports';
import { readProfile } from '../../app/profiles';
import type { ScherpConfig } from '../../core/config';
import { AuthenticationError } from '../../core/errors';
import { BootstrapKeyStore, envLoader, secretLoader } from '../../adapters/keys';
import { scherpConfig } from '../shared/config';
import { profileStore } from '../shared/dynamo';
import { ENV, optionalEnv } from '../shared/env';
import { credential, errorResponse, json, type HttpResult } from '../shared/http';
import { lazy } from '../shared/lazy';

export interface ProfileDeps {
  readonly store: ProfileStore;
  readonly keys: KeyStore;
  readonly config: ScherpConfig;
}

function profileKey(event: APIGatewayProxyEventV2): string {
  const raw = event.pathParameters?.id ?? event.rawPath.split('/').pop() ?? '';
  return decodeURIComponent(raw);
}

export function createProfileHandler(deps: () => ProfileDeps) {
  return async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    try {
      const key = credential(event);
      if (!key) throw new AuthenticationError('missing read key: send it as the HTTP Basic auth user name');
      if (!(await deps().keys.authenticate('read', key))) throw new AuthenticationError('invalid read key');
      return json(200, await readProfile(deps().store, profileKey(event), deps().config.identity));
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
