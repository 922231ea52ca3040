/**
 * `POST /v1/context` is not an existence oracle (issue 18 item 9): the same store calls and the
 * same answer shape whether the visitor's id is known, unknown, merged or invalid; user-id
 * lookups need a user token from the site's back end.
 */
import { CONTEXT_PROFILE_READS, readContext } from '../../app/context';
import type { ProfileReader, ProfileStore, ProfileWithParts } from '../../app/ports';
import { parseConfig } from '../../core/config';
import { ContextRequestSchema } from '../../core/context';
import { AuthenticationError, ValidationError } from '../../core/errors';
import { identifierKey, type Identifier } from '../../core/identity';
import { checkUserToken, mintUserToken } from '../../core/user-token';

const NOW = new Date('2026-06-01T12:00:00.000Z');
const SECRET = 'a-secret-only-the-back-end-and-scherp-know';
const config = parseConfig({ context: { traits: ['plan'], audiences: ['*'] } });

function whole(id: string, over: { mergedInto?: string; plan?: string } = {}): ProfileWithParts {
  return {
    stored: {
      version: 1,
      profile: {
        id,
        identifiers: [],
        traits: over.plan ? { plan: { value: over.plan, updatedAt: '2026-01-01T00:00:00.000Z', sourceId: 'default' } } : {},
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: '2026-01-01T00:00:00.000Z',
        ...(over.mergedInto ? { mergedInto: over.mergedInto } : {}),
      },
    },
    parts: {
      computed: {},
      audiences: { vip: '2026-01-01T00:00:00.000Z' },
      consent: {},
      consentVersion: 0,
      recommendations: {
        shelf: {
          ruleId: 'r',
          data: { products: ['baby-ointment'] },
          createdAt: '2026-06-01T00:00:00.000Z',
          expiresAt: '2026-07-01T00:00:00.000Z',
        },
      },
    },
  };
}

/** A store double that records every call: which method, how many ids. */
function recordingStore() {
  const owners = new Map<string, string>([
    ['anonymous_id:known', '0000000000010000000000aa'],
    ['anonymous_id:merged', '0000000000020000000000bb'],
    ['user_id:ada', '0000000000010000000000aa'],
  ]);
  const profiles = new Map<string, ProfileWithParts>([
    ['0000000000010000000000aa', whole('0000000000010000000000aa', { plan: 'pro' })],
    ['0000000000020000000000bb', whole('0000000000020000000000bb', { mergedInto: '0000000000010000000000aa' })],
  ]);
  const calls: string[] = [];
  const store = {
    async getIdentityOwners(ids: readonly Identifier[]) {
      calls.push(`getIdentityOwners(${ids.length})`);
      const out = new Map<string, string>();
      for (const id of ids) {
        const o = owners.get(identifierKey(id));
        if (o) out.set(identifierKey(id), o);
      }
      return out;
    },
    async loadProfileWithParts(profileId: string) {
      calls.push('loadProfileWithParts(1)');
      return profiles.get(profileId);
    },
  } as unknown as ProfileStore & ProfileReader;
  // Any other method would be a read that depends on what was found: make it visible.
  const proxied = new Proxy(store, {
    get(target, prop) {
      const v = (target as any)[prop];
      if (v === undefined && typeof prop === 'string') calls.push(`unexpected:${prop}`);
      return v;
    },
  });
  return { store: proxied, calls };
}

const req = (body: unknown) => ContextRequestSchema.parse(body);
const shape = (c: object) => JSON.stringify(Object.keys(c).sort());

describe('readContext does the same work whether or not the visitor exists', () => {
  it('known, unknown, merged and invalid anonymous ids: same calls, same shape', async () => {
    const runs: { calls: string[]; answer: object }[] = [];
    for (const anonymousId of ['known', 'unknown', 'merged', '   ']) {
      const { store, calls } = recordingStore();
      const answer = await readContext(store, req({ anonymousId }), config, { now: NOW });
      runs.push({ calls, answer });
    }
    for (const r of runs) {
      expect(r.calls).toEqual(['getIdentityOwners(1)', ...Array.from({ length: CONTEXT_PROFILE_READS }, () => 'loadProfileWithParts(1)')]);
      expect(shape(r.answer)).toBe(shape(runs[0]!.answer));
    }
    // And the answers are what they should be: the known and the merged visitor see the profile.
    expect(runs[0]!.answer).toEqual({
      audiences: ['vip'],
      traits: { plan: 'pro' },
      computed: {},
      recommendations: { shelf: { data: { products: ['baby-ointment'] }, expiresAt: '2026-07-01T00:00:00.000Z' } },
    });
    expect(runs[2]!.answer).toEqual(runs[0]!.answer);
    expect(runs[1]!.answer).toEqual({ audiences: [], traits: {}, computed: {}, recommendations: {} });
  });

  it('a user id with a valid token: the same calls for a known and an unknown user', async () => {
    const token = (userId: string) => mintUserToken(SECRET, userId, new Date(NOW.getTime() + 600_000));
    const a = recordingStore();
    const known = await readContext(a.store, req({ userId: 'ada', userToken: token('ada') }), config, {
      now: NOW,
      userTokenSecret: async () => SECRET,
    });
    const b = recordingStore();
    const unknown = await readContext(b.store, req({ userId: 'nobody', userToken: token('nobody') }), config, {
      now: NOW,
      userTokenSecret: async () => SECRET,
    });
    expect(a.calls).toEqual(b.calls);
    expect(shape(known)).toBe(shape(unknown));
    expect(known.recommendations.shelf).toBeDefined();
    expect(unknown.recommendations).toEqual({});
  });
});

describe('user-id lookups need a user token by default', () => {
  it('allowUserId defaults to false: a bare userId is a 400 naming userToken, before any read', async () => {
    expect(parseConfig(undefined).context.allowUserId).toBe(false);
    const { store, calls } = recordingStore();
    await expect(readContext(store, req({ userId: 'ada' }), config, { now: NOW })).rejects.toThrow(ValidationError);
    await expect(readContext(store, req({ userId: 'ada' }), config, { now: NOW })).rejects.toMatchObject({
      issues: [{ path: 'userToken' }],
    });
    expect(calls).toEqual([]);
  });

  it('allowUserId: true still allows a bare userId (opt-in)', async () => {
    const { store } = recordingStore();
    const open = parseConfig({ context: { traits: ['plan'], allowUserId: true } });
    expect((await readContext(store, req({ userId: 'ada' }), open, { now: NOW })).traits).toEqual({ plan: 'pro' });
  });

  it('a forged, expired, too long-lived or other user’s token is a 401 before any read; no secret configured is a 400', async () => {
    const opts = { now: NOW, userTokenSecret: async () => SECRET };
    const cases = [
      mintUserToken('another secret', 'ada', new Date(NOW.getTime() + 60_000)),
      mintUserToken(SECRET, 'ada', new Date(NOW.getTime() - 1_000)),
      mintUserToken(SECRET, 'ada', new Date(NOW.getTime() + 2 * 3600_000)),
      mintUserToken(SECRET, 'eve', new Date(NOW.getTime() + 60_000)),
      'v1.123.not-a-signature',
    ];
    for (const userToken of cases) {
      const { store, calls } = recordingStore();
      await expect(readContext(store, req({ userId: 'ada', userToken }), config, opts)).rejects.toThrow(AuthenticationError);
      expect(calls).toEqual([]);
    }
    const { store } = recordingStore();
    await expect(readContext(store, req({ userId: 'ada', userToken: cases[0] }), config, { now: NOW })).rejects.toMatchObject({
      issues: [{ path: 'userToken' }],
    });
  });

  it('userToken without userId is refused by the schema, naming the field', () => {
    const r = ContextRequestSchema.safeParse({ anonymousId: 'a', userToken: 'v1.1.x' });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toEqual(['userToken']);
  });
});

describe('user tokens', () => {
  it('round-trip; the check names why a token fails', () => {
    const exp = new Date(NOW.getTime() + 300_000);
    const t = mintUserToken(SECRET, 'ada', exp);
    expect(t).toMatch(/^v1\.\d+\.[A-Za-z0-9_-]{43}$/);
    expect(checkUserToken(SECRET, 'ada', t, NOW, 3600)).toBe('ok');
    expect(checkUserToken(SECRET, 'ada ', t, NOW, 3600)).toBe('bad_signature');
    expect(checkUserToken(SECRET, 'ada', t, new Date(exp.getTime() + 1000), 3600)).toBe('expired');
    expect(checkUserToken(SECRET, 'ada', t, NOW, 60)).toBe('too_long_lived');
    expect(checkUserToken(SECRET, 'ada', 'garbage', NOW, 3600)).toBe('malformed');
  });
});
