/**
 * Bootstrap keys: one write, one read and one admin key per deployment. In the cloud each is a
 * Secrets Manager secret (fetched once per container); locally they come from the environment.
 * Keys are compared as SHA-256 digests in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { KeyKind, KeyStore, Principal } from '../app/ports';

/** The source that bootstrap keys belong to. */
export const DEFAULT_SOURCE_ID = 'default';

export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export type KeyLoader = () => Promise<string | undefined>;

export class BootstrapKeyStore implements KeyStore {
  private readonly cache = new Map<KeyKind, Promise<Buffer | undefined>>();

  constructor(private readonly loaders: Partial<Record<KeyKind, KeyLoader>>) {}

  private digest(kind: KeyKind): Promise<Buffer | undefined> {
    let p = this.cache.get(kind);
    if (!p) {
      const loader = this.loaders[kind];
      p = (loader ? loader() : Promise.resolve(undefined)).then((k) => (k ? hashKey(k) : undefined));
      // A failed fetch is retried on the next request rather than cached.
      p.catch(() => this.cache.delete(kind));
      this.cache.set(kind, p);
    }
    return p;
  }

  async authenticate(kind: KeyKind, key: string): Promise<Principal | undefined> {
    if (!key) return undefined;
    const expected = await this.digest(kind);
    if (!expected || !timingSafeEqual(expected, hashKey(key))) return undefined;
    return { kind, sourceId: DEFAULT_SOURCE_ID };
  }
}

export function secretLoader(sm: SecretsManagerClient, secretId: string): KeyLoader {
  return async () => (await sm.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
}

export function envLoader(value: string | undefined): KeyLoader {
  return async () => value;
}
