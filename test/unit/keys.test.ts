import { BootstrapKeyStore, envLoader, SourceKeyStore } from '../../adapters/keys';
import type { KeyRecord } from '../../app/ports';
import { keyDigest } from '../../core/sources';

describe('SourceKeyStore', () => {
  let now = 0;
  let reads: string[] = [];
  let table: Map<string, KeyRecord>;
  const store = (opts = {}) =>
    new SourceKeyStore(
      new BootstrapKeyStore({ write: envLoader('boot'), admin: envLoader('adm') }),
      async (d) => {
        reads.push(d);
        return table.get(d);
      },
      { now: () => now, ...opts },
    );
  beforeEach(() => {
    now = 0;
    reads = [];
    table = new Map([[keyDigest('k1'), { keyId: 'key_1', sourceId: 'src_a', party: 'second', status: 'active' }]]);
  });

  it('bootstrap keys are source default, party first, with no table read', async () => {
    const s = store();
    expect(await s.authenticate('write', 'boot')).toEqual({
      kind: 'write',
      sourceId: 'default',
      party: 'first',
      sourceName: 'Default (bootstrap write key)',
    });
    expect(await s.authenticate('admin', 'adm')).toMatchObject({ kind: 'admin' });
    expect(await s.authenticate('admin', 'k1')).toBeUndefined();
    expect(reads).toEqual([]);
  });

  it('a source key costs one read per positive TTL, an unknown key one per negative TTL', async () => {
    const s = store({ positiveTtlMs: 60_000, negativeTtlMs: 5_000 });
    await Promise.all([s.authenticate('write', 'k1'), s.authenticate('write', 'k1')]);
    for (let i = 0; i < 100; i++)
      expect(await s.authenticate('write', 'k1')).toEqual({ kind: 'write', sourceId: 'src_a', party: 'second' });
    expect(reads).toHaveLength(1);
    for (let i = 0; i < 10; i++) expect(await s.authenticate('write', 'nope')).toBeUndefined();
    expect(reads).toHaveLength(2);
    now = 5_001;
    await s.authenticate('write', 'nope');
    expect(reads).toHaveLength(3);
    now = 60_001;
    await s.authenticate('write', 'k1');
    expect(reads).toHaveLength(4);
  });

  it('a revoked key stops working once the cache entry expires', async () => {
    const s = store({ positiveTtlMs: 1000 });
    expect(await s.authenticate('write', 'k1')).toBeDefined();
    table.set(keyDigest('k1'), { ...table.get(keyDigest('k1'))!, status: 'revoked' });
    now = 1001;
    expect(await s.authenticate('write', 'k1')).toBeUndefined();
  });

  it('the cache is bounded; a failed read is not cached', async () => {
    const s = store({ maxEntries: 3 });
    for (const k of ['a', 'b', 'c', 'd', 'k1']) await s.authenticate('write', k);
    await s.authenticate('write', 'a');
    expect(reads.filter((r) => r === keyDigest('a'))).toHaveLength(2);
    let fail = true;
    const flaky = new SourceKeyStore(new BootstrapKeyStore({}), async () => {
      if (fail) throw new Error('throttled');
      return table.get(keyDigest('k1'));
    });
    await expect(flaky.authenticate('write', 'k1')).rejects.toThrow('throttled');
    fail = false;
    expect(await flaky.authenticate('write', 'k1')).toBeDefined();
  });
});

describe('bootstrap keys from Secrets Manager', () => {
  it('a rotated secret takes over within the TTL: the old key stops working, the new one works', async () => {
    let secret = 'old-key';
    let fetches = 0;
    let now = 0;
    const store = new BootstrapKeyStore({ write: async () => (fetches++, secret) }, { ttlMs: 60_000, now: () => now });
    expect(await store.authenticate('write', 'old-key')).toBeDefined();
    secret = 'new-key';
    now = 59_000;
    expect(await store.authenticate('write', 'old-key')).toBeDefined();
    expect(fetches).toBe(1);
    now = 61_000;
    expect(await store.authenticate('write', 'old-key')).toBeUndefined();
    expect(await store.authenticate('write', 'new-key')).toBeDefined();
    expect(fetches).toBe(2);
  });

  it('a failed refresh keeps the key it would replace (no lock-out), and is tried again soon', async () => {
    let fail = false;
    let now = 0;
    const store = new BootstrapKeyStore(
      { write: async () => (fail ? Promise.reject(new Error('throttled')) : 'k1') },
      { ttlMs: 60_000, now: () => now },
    );
    expect(await store.authenticate('write', 'k1')).toBeDefined();
    fail = true;
    now = 61_000;
    expect(await store.authenticate('write', 'k1')).toBeDefined();
    fail = false;
    now = 67_000;
    expect(await store.authenticate('write', 'k1')).toBeDefined();
  });
});
