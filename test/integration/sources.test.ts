/**
 * Sources on DynamoDB Local: unique names (also under concurrent creates), deletion (keys
 * revoked, name freed, tombstone kept, idempotent), and the source name on the key lookup that
 * collect stamps on events.
 */
import { DynamoSourceStore } from '../../adapters/dynamo/source-store';
import { BootstrapKeyStore, SourceKeyStore } from '../../adapters/keys';
import { collect } from '../../app/collect';
import { createSource, deleteSource, listSources, rotateKey } from '../../app/sources';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../../core/errors';
import type { ScherpEvent } from '../../core/events';
import { keyDigest } from '../../core/sources';
import { createTestTable, scanTable, type TestTable } from '../helpers/dynamo';

let t: TestTable;
let store: DynamoSourceStore;
let deps: { sources: DynamoSourceStore };

beforeAll(async () => {
  t = await createTestTable('sources');
  store = new DynamoSourceStore(t.doc, t.tableName);
  deps = { sources: store };
});
afterAll(() => t.drop());

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('source names', () => {
  it('a taken name is refused (case-insensitively, trimmed) with the holder named', async () => {
    const first = await createSource(deps, { name: 'Shop', party: 'first' });
    for (const name of ['Shop', 'shop', '  SHOP ']) {
      const err = await rejection(createSource(deps, { name, party: 'second' }));
      expect(err).toBeInstanceOf(AlreadyExistsError);
      expect(err.message).toContain(first.source.id);
      expect((err as AlreadyExistsError).issues).toEqual([{ path: 'name', message: `is taken by source ${first.source.id}` }]);
    }
    expect((await listSources(deps)).filter((s) => s.source.name.toLowerCase() === 'shop')).toHaveLength(1);
  });

  it('the default source name is taken too', async () => {
    expect(await rejection(createSource(deps, { name: 'Default (bootstrap write key)', party: 'first' }))).toBeInstanceOf(
      AlreadyExistsError,
    );
  });

  it('of concurrent creates with one name exactly one wins; the others store nothing', async () => {
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => createSource(deps, { name: 'race', party: 'first' })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(AlreadyExistsError);
    expect((await listSources(deps)).filter((s) => s.source.name === 'race')).toHaveLength(1);
    const items = await scanTable(t.doc, t.tableName);
    expect(items.filter((i) => i.name === 'race')).toHaveLength(1);
  });

  it('the key lookup carries the source name, and collect stamps it on events', async () => {
    const crm = await createSource(deps, { name: 'crm', party: 'second' });
    expect(await store.findKey(keyDigest(crm.writeKey))).toMatchObject({
      sourceId: crm.source.id,
      party: 'second',
      sourceName: 'crm',
      status: 'active',
    });
    const queued: ScherpEvent[] = [];
    const keys = new SourceKeyStore(new BootstrapKeyStore({}), (d) => store.findKey(d));
    await collect(
      { keys, queue: { send: async (es) => void queued.push(...es) } },
      { route: 'track', credential: crm.writeKey, body: { type: 'track', userId: 'u', event: 'Complaint Filed' } },
    );
    expect(queued[0]).toMatchObject({ sourceId: crm.source.id, party: 'second', sourceName: 'crm' });
  });
});

describe('deleting a source', () => {
  it('revokes every key, frees the name, keeps a tombstone; a second delete is a 404', async () => {
    const pos = await createSource(deps, { name: 'POS', party: 'first' });
    const second = await rotateKey(deps, pos.source.id);
    await deleteSource(deps, pos.source.id);
    for (const k of [pos.writeKey, second.writeKey]) expect((await store.findKey(keyDigest(k)))?.status).toBe('revoked');
    const keys = new SourceKeyStore(new BootstrapKeyStore({}), (d) => store.findKey(d));
    expect(await keys.authenticate('write', pos.writeKey)).toBeUndefined();
    expect((await listSources(deps)).map((s) => s.source.id)).not.toContain(pos.source.id);
    expect(await store.getSource(pos.source.id)).toBeUndefined();
    expect(await rejection(rotateKey(deps, pos.source.id))).toBeInstanceOf(NotFoundError);
    expect(await rejection(deleteSource(deps, pos.source.id))).toBeInstanceOf(NotFoundError);
    // The tombstone: the item stays, marked deleted (stored events keep naming the id).
    const items = await scanTable(t.doc, t.tableName);
    expect(items.find((i) => i.sk === `S#${pos.source.id}`)).toMatchObject({ name: 'POS', deletedAt: expect.any(String) });
    // The name is free again.
    const again = await createSource(deps, { name: 'pos', party: 'third' });
    expect(again.source.id).not.toBe(pos.source.id);
    expect((await store.findKey(keyDigest(again.writeKey)))?.status).toBe('active');
  });

  it('default cannot be deleted; an unknown source is a 404', async () => {
    expect(await rejection(deleteSource(deps, 'default'))).toBeInstanceOf(ValidationError);
    expect(await rejection(deleteSource(deps, 'src_nope'))).toBeInstanceOf(NotFoundError);
  });

  it('a delete that stopped after revoking the keys is finished by a retry', async () => {
    const half = await createSource(deps, { name: 'half', party: 'first' });
    const [listing] = (await store.getSource(half.source.id))!.keys;
    await store.revokeKey(half.source.id, listing!.id, new Date().toISOString());
    await deleteSource(deps, half.source.id);
    expect(await store.getSource(half.source.id)).toBeUndefined();
    await createSource(deps, { name: 'half', party: 'first' });
  });
});
