/**
 * identity: the identity admin routes, admin key only (the profile function keeps reads and
 * erasure; this one's role may write a person's profile items, identity items and suppression
 * markers, nothing else):
 * - `POST /v1/profiles/{type}:{value}/split` (`app/split.ts`): detach an identifier or undo a merge;
 * - `POST /v1/profiles/{type}:{value}/release` (`app/quarantine.ts`): lift the circuit breaker;
 * - `DELETE /v1/suppressions/{type}:{value}` (`app/suppressions.ts`): lift an erasure's suppression.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ComputedDeps } from '../../app/computed';
import type { DueStore, ErasureStore, IdentityGraphStore, KeyStore, ProfileStore, SplitStore } from '../../app/ports';
import { DynamoDueStore } from '../../adapters/dynamo/due-store';
import { DEFAULT_STITCH_TIMEOUT_SECONDS } from '../../core/stitch-bound';
import { releaseQuarantine } from '../../app/quarantine';
import { splitProfile } from '../../app/split';
import { liftSuppression } from '../../app/suppressions';
import type { ScherpConfig } from '../../core/config';
import { AuthenticationError, NotFoundError } from '../../core/errors';
import { DynamoComputedStore } from '../../adapters/dynamo/computed-store';
import { BootstrapKeyStore, envLoader, secretLoader } from '../../adapters/keys';
import { pathParam } from '../shared/admin-api';
import { scherpConfig } from '../shared/config';
import { dynamo, profileStore, tableName } from '../shared/dynamo';
import { ENV, optionalEnv } from '../shared/env';
import { credential, errorResponse, json, parseJsonBody, type HttpResult } from '../shared/http';
import { lazy } from '../shared/lazy';
import { logger } from '../shared/observability';

export interface IdentityDeps {
  readonly store: ProfileStore & IdentityGraphStore & SplitStore & ErasureStore;
  readonly keys: KeyStore;
  readonly config: ScherpConfig;
  /** Computed traits, recomputed per side by a split. */
  readonly computed?: ComputedDeps;
  /** Where a split files its final settle pass (the minute sweep runs it). */
  readonly due?: Pick<DueStore, 'file'>;
  /** The stitch function's timeout, ms (the final pass waits for it). */
  readonly stitchTimeoutMs?: number;
}

/** A split body is a few hundred bytes. */
const MAX_BODY_BYTES = 16 * 1024;

export function createIdentityHandler(deps: () => IdentityDeps) {
  return async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    try {
      const admin = credential(event);
      if (!admin || !(await deps().keys.authenticate('admin', admin))) throw new AuthenticationError('missing or invalid admin key');
      const { store, config, computed, due, stitchTimeoutMs } = deps();
      const identity = config.identity;
      const key = pathParam(event, 'id');
      if (event.routeKey === 'POST /v1/profiles/{id}/split') {
        const result = await splitProfile(
          { store, identity, traits: config.traits, computed, due, stitchTimeoutMs },
          key,
          parseJsonBody(event, MAX_BODY_BYTES),
        );
        logger.info('profile split', {
          splitId: result.splitId,
          kind: result.kind,
          moved: result.moved,
          separated: result.separated.length,
        });
        return json(200, result);
      }
      if (event.routeKey === 'POST /v1/profiles/{id}/release') {
        const result = await releaseQuarantine(store, key, identity);
        logger.info('quarantine released', { ...result });
        return json(200, result);
      }
      if (event.routeKey === 'DELETE /v1/suppressions/{id}') {
        const result = await liftSuppression(store, key, 'admin', identity);
        // Who (the admin key) and when; never the identifier.
        logger.info('suppression lifted', { at: result.at, by: 'admin' });
        return json(200, result);
      }
      throw new NotFoundError(`no route ${event.routeKey}`);
    } catch (err) {
      return errorResponse(err);
    }
  };
}

const cloudDeps = lazy((): IdentityDeps => {
  const adminArn = optionalEnv(ENV.ADMIN_KEY_SECRET_ARN);
  return {
    store: profileStore(),
    config: scherpConfig(),
    computed: { store: new DynamoComputedStore(dynamo(), tableName()), defs: scherpConfig().computed },
    due: new DynamoDueStore(dynamo(), tableName()),
    stitchTimeoutMs: Number(optionalEnv(ENV.STITCH_TIMEOUT_SECONDS) ?? DEFAULT_STITCH_TIMEOUT_SECONDS) * 1000,
    keys: new BootstrapKeyStore({
      admin: adminArn ? secretLoader(new SecretsManagerClient({}), adminArn) : envLoader(optionalEnv(ENV.ADMIN_KEY)),
    }),
  };
});

export const handler = createIdentityHandler(cloudDeps);
