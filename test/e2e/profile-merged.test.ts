/**
 * Merges announced on the bus through the in-process local runtime: the merge record written
 * with the merge reaches `evaluate` over DynamoDB Local's stream and becomes `Profile Merged`;
 * the runtime's configuration (limits, normalisation) applies to ingest and reads.
 */
import type { Runtime } from '../../local/runtime';
import { startTestRuntime } from '../helpers/runtime';
import { eventually } from '../helpers/dynamo';
import { apiClient } from '../helpers/http';

let rt: Runtime;

beforeAll(async () => {
  rt = await startTestRuntime('merged', {
    streamPollMs: 20,
    config: { identity: { phoneDefaultRegion: 'NL', blockedValues: ['guest'] } },
  });
}, 60_000);
afterAll(() => rt?.stop());

const { send, get } = apiClient(() => rt);
const profile = (key: string) => get(`/v1/profiles/${encodeURIComponent(key)}`);

describe('Profile Merged on the bus (local runtime)', () => {
  it('a merge is recorded and announced once, with a dedupe id and no identifier values', async () => {
    await send({ type: 'track', anonymousId: 'pm-anon', event: 'Viewed', messageId: 'pm-1' });
    await send({ type: 'identify', userId: 'pm-user', traits: { phone: '06 12345678' }, messageId: 'pm-2' });
    await eventually(async () =>
      (await profile('user_id:pm-user')).status === 200 && (await profile('anonymous_id:pm-anon')).status === 200 ? true : undefined,
    );
    await send({ type: 'identify', userId: 'pm-user', anonymousId: 'pm-anon', messageId: 'pm-3' });
    const merged = await eventually(() => rt.bus.delivered.find((e) => e['detail-type'] === 'Profile Merged'));
    expect(merged.source).toBe('scherp');
    const view = await eventually(async () => {
      const r = await profile('phone:+31 6 12345678');
      const v = (await r.json()) as { id: string; mergedFrom: string[]; identifiers: string[] };
      return v.mergedFrom?.length === 1 ? v : undefined;
    });
    expect(view.identifiers).toEqual(['anonymous_id:pm-anon', 'phone:+31612345678', 'user_id:pm-user']);
    expect(merged.detail).toMatchObject({
      version: '1',
      profileId: view.id,
      messageId: 'pm-3',
      mergedProfileIds: view.mergedFrom,
      identifierTypes: ['anonymous_id', 'user_id'],
    });
    expect(merged.detail.dedupeId).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(merged.detail)).not.toContain('pm-user');
    // The same event again: no second merge, no second announcement.
    await send({ type: 'identify', userId: 'pm-user', anonymousId: 'pm-anon', messageId: 'pm-3' });
    await new Promise((r) => setTimeout(r, 1000));
    expect(rt.bus.delivered.filter((e) => e['detail-type'] === 'Profile Merged')).toHaveLength(1);
  });

  it('configured blocked values never identify anyone', async () => {
    await send({ type: 'identify', userId: 'guest', anonymousId: 'pm-guest-anon', traits: { name: 'G' } });
    await eventually(async () => ((await profile('anonymous_id:pm-guest-anon')).status === 200 ? true : undefined));
    expect((await profile('user_id:guest')).status).toBe(400);
  });
});
