/**
 * Explain against DynamoDB Local: every identifier with the event that linked it, every merge
 * with its evidence and id, refused links.
 */
import { randomBytes } from 'node:crypto';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { explainIdentity } from '../../app/identity-graph';
import { stitch } from '../../app/stitch';
import { parseConfig } from '../../core/config';
import { IdentityGraphSchema } from '../../core/identity-graph';
import { NotFoundError } from '../../core/errors';
import { identifierDigest } from '../../core/identity';
import { createTestTable, type TestTable } from '../helpers/dynamo';
import { eventFactory } from '../helpers/events';

let t: TestTable;
let store: DynamoProfileStore;
const event = eventFactory();
const ns = () => randomBytes(4).toString('hex');

beforeAll(async () => {
  t = await createTestTable('graph');
  store = new DynamoProfileStore(t.doc, { tableName: t.tableName });
});
afterAll(() => t.drop());

describe('explain: GET /v1/profiles/{id}/identity (app/identity-graph.ts)', () => {
  it('names the event that linked each identifier and the event, identifiers and profiles of each merge', async () => {
    const n = ns();
    const e1 = event({ anonymousId: `a-${n}`, sourceId: 'web' });
    const e2 = event({ type: 'identify', userId: `u-${n}`, traits: { email: `ada-${n}@example.com` }, sourceId: 'crm' });
    const e3 = event({ type: 'identify', userId: `u-${n}`, anonymousId: `a-${n}`, sourceId: 'app' });
    const r1 = await stitch(store, e1);
    const r2 = await stitch(store, e2);
    const r3 = await stitch(store, e3);
    expect(r3.merged).toHaveLength(1);
    const g = IdentityGraphSchema.parse(await explainIdentity(store, `email:ada-${n}@example.com`));
    expect(g.profileId).toBe(r3.profileId);
    const byId = new Map(g.identifiers.map((i) => [i.id, i]));
    expect(byId.get(`anonymous_id:a-${n}`)?.linkedBy).toEqual({ messageId: e1.messageId, sourceId: 'web', timestamp: e1.timestamp });
    expect(byId.get(`anonymous_id:a-${n}`)?.profileId).toBe(r1.profileId);
    expect(byId.get(`user_id:u-${n}`)?.linkedBy).toEqual({ messageId: e2.messageId, sourceId: 'crm', timestamp: e2.timestamp });
    expect(byId.get(`email:ada-${n}@example.com`)?.linkedBy?.messageId).toBe(e2.messageId);
    for (const i of g.identifiers) expect(typeof i.linkedAt).toBe('string');
    expect(g.merges).toHaveLength(1);
    const m = g.merges[0]!;
    expect(m.id).toMatch(/^m_[0-9a-f]{24}$/);
    expect([...m.profiles].sort()).toEqual([r1.profileId, r2.profileId].sort());
    expect(m.profiles[0]).toBe(r3.profileId);
    expect(m.linkedBy).toMatchObject({ messageId: e3.messageId, sourceId: 'app', timestamp: e3.timestamp });
    expect([...m.linkedBy.identifiers].sort()).toEqual([`anonymous_id:a-${n}`, `user_id:u-${n}`]);
    expect(g.refused).toEqual([]);
    // Any identifier of the person explains the same graph.
    expect(await explainIdentity(store, `anonymous_id:a-${n}`)).toEqual(g);
  });

  it('lists links the merge cap refused, with the event', async () => {
    const n = ns();
    const cfg = parseConfig({ identity: { maxMergesPerProfile: 1 } }).identity;
    await stitch(store, event({ userId: `c-${n}` }), { identity: cfg });
    await stitch(store, event({ anonymousId: `c1-${n}` }), { identity: cfg });
    await stitch(store, event({ anonymousId: `c2-${n}` }), { identity: cfg });
    await stitch(store, event({ userId: `c-${n}`, anonymousId: `c1-${n}` }), { identity: cfg });
    const refusing = event({ userId: `c-${n}`, anonymousId: `c2-${n}` });
    await stitch(store, refusing, { identity: cfg });
    const g = await explainIdentity(store, `user_id:c-${n}`, cfg);
    expect(g.merges).toHaveLength(1);
    expect(g.refused).toEqual([
      expect.objectContaining({
        reason: 'merge_cap',
        // c2 is another person's identifier: the record keeps its type and digest, and explain shows those.
        identifiers: [],
        others: [{ type: 'anonymous_id', digest: identifierDigest(`anonymous_id:c2-${n}`) }],
        linkedBy: { messageId: refusing.messageId, sourceId: 'web', timestamp: refusing.timestamp },
      }),
    ]);
  });

  it('an unknown identifier is a 404 (NotFoundError); a malformed one names the field', async () => {
    await expect(explainIdentity(store, `user_id:nobody-${ns()}`)).rejects.toBeInstanceOf(NotFoundError);
    await expect(explainIdentity(store, 'nocolon')).rejects.toMatchObject({ issues: [{ path: 'id' }] });
  });
});
