/**
 * Keys. Bootstrap keys: one write, one read and one admin key per deployment. In the cloud each
 * is a Secrets Manager secret (fetched by a container at most once a minute, so a rotated value
 * takes over within that); locally they come from the
 * environment. They belong to source `default` (party `first`). Source write keys live in the
 * table as digests ({@link SourceKeyStore}). Keys are compared as SHA-256 digests.
 */
import { timingSafeEqual } from 'node:crypto';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DEFAULT_SOURCE, keyDigest } from '../core/sources';
import { trustStamp } from '../core/trust';
import type { KeyKind, KeyRecord, KeyStore, Principal } from '../app/ports';

/** The source that bootstrap keys belong to. */
export const DEFAULT_SOURCE_ID = DEFAULT_SOURCE.id;

export function hashKey(key: string): Buffer {
  return Buffer.from(keyDigest(key), 'hex');
}

export type KeyLoader = () => Promise<string | undefined>;

export interface BootstrapKeyOptions {
  /** How long a fetched key is used before it is fetched again (a rotated secret takes over within this). @default 60000 */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

export class BootstrapKeyStore implements KeyStore {
  private readonly cache = new Map<KeyKind, { value: Promise<Buffer | undefined>; expires: number }>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly loaders: Partial<Record<KeyKind, KeyLoader>>,
    opts: BootstrapKeyOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  private digest(kind: KeyKind): Promise<Buffer | undefined> {
    const hit = this.cache.get(kind);
    if (hit && hit.expires > this.now()) return hit.value;
    const loader = this.loaders[kind];
    const value = (loader ? loader() : Promise.resolve(undefined)).then((k) => (k ? hashKey(k) : undefined));
    const entry = { value, expires: this.now() + this.ttlMs };
    // A failed fetch is not cached: the key it replaces serves until a fetch succeeds (a
    // Secrets Manager hiccup does not lock every client out); without one, it is retried.
    value.catch(() => {
      if (this.cache.get(kind) !== entry) return;
      if (hit) this.cache.set(kind, { value: hit.value, expires: this.now() + Math.min(this.ttlMs, 5_000) });
      else this.cache.delete(kind);
    });
    this.cache.set(kind, entry);
    return hit ? value.catch(() => hit.value) : value;
  }

  async authenticate(kind: KeyKind, key: string): Promise<Principal | undefined> {
    if (!key) return undefined;
    const expected = await this.digest(kind);
    if (!expected || !timingSafeEqual(expected, hashKey(key))) return undefined;
    return { kind, sourceId: DEFAULT_SOURCE.id, party: DEFAULT_SOURCE.party, sourceName: DEFAULT_SOURCE.name };
  }
}

export interface KeyCacheOptions {
  /** How long a found key is trusted (so a revocation takes effect within this). @default 60000 */
  readonly positiveTtlMs?: number;
  /** How long an unknown key is remembered as unknown. @default 5000 */
  readonly negativeTtlMs?: number;
  /** Most digests remembered; the oldest entry goes first. @default 10000 */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

interface CacheEntry {
  readonly value: Promise<KeyRecord | undefined>;
  expires: number;
}

/**
 * Write keys of every source: bootstrap keys first (no I/O), then the source key table through
 * a per-container cache, so a steady stream of requests costs no table read per request.
 * Read and admin keys are bootstrap keys only.
 */
export class SourceKeyStore implements KeyStore {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly positiveTtlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly bootstrap: KeyStore,
    private readonly findKey: (digest: string) => Promise<KeyRecord | undefined>,
    opts: KeyCacheOptions = {},
  ) {
    this.positiveTtlMs = opts.positiveTtlMs ?? 60_000;
    this.negativeTtlMs = opts.negativeTtlMs ?? 5_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  private lookup(digest: string): Promise<KeyRecord | undefined> {
    const now = this.now();
    const hit = this.cache.get(digest);
    if (hit && hit.expires > now) return hit.value;
    if (hit) this.cache.delete(digest);
    while (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    // Concurrent requests with the same key share one read; a failed read is not cached.
    const entry: CacheEntry = { value: this.findKey(digest), expires: now + this.negativeTtlMs };
    entry.value.then(
      (r) => (entry.expires = this.now() + (r ? this.positiveTtlMs : this.negativeTtlMs)),
      () => this.cache.get(digest) === entry && this.cache.delete(digest),
    );
    this.cache.set(digest, entry);
    return entry.value;
  }

  async authenticate(kind: KeyKind, key: string): Promise<Principal | undefined> {
    if (!key) return undefined;
    const boot = await this.bootstrap.authenticate(kind, key);
    if (boot || kind !== 'write') return boot;
    const record = await this.lookup(keyDigest(key));
    if (!record || record.status !== 'active') return undefined;
    return {
      kind,
      sourceId: record.sourceId,
      party: record.party,
      ...(record.sourceName ? { sourceName: record.sourceName } : {}),
      ...trustStamp(record.trust),
      ...(record.rateLimit ? { rateLimit: record.rateLimit } : {}),
    };
  }
}

export function secretLoader(sm: SecretsManagerClient, secretId: string): KeyLoader {
  return async () => (await sm.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
}

export function envLoader(value: string | undefined): KeyLoader {
  return async () => value;
}

/** A loader fetched once per container; a failed fetch is retried on the next call. */
export function cachedLoader(loader: KeyLoader): KeyLoader {
  let p: Promise<string | undefined> | undefined;
  return () => {
    if (!p) {
      p = loader();
      p.catch(() => (p = undefined));
    }
    return p;
  };
}
