import { correctTimestamp, ingest, type IngestInput } from '../../core/ingest';
import { LimitExceededError, ValidationError } from '../../core/errors';

const base = (over: Partial<IngestInput>): IngestInput => ({
  route: 'track',
  body: {},
  receivedAt: new Date('2026-01-01T12:00:00.000Z'),
  sourceId: 'web',
  newMessageId: () => 'generated-id',
  ...over,
});

describe('ingest', () => {
  it('accepts a track call and stamps it', () => {
    const r = ingest(base({ body: { userId: 42, event: 'Signed Up', properties: { plan: 'pro' } } }));
    expect(r.rejected).toEqual([]);
    expect(r.accepted).toHaveLength(1);
    const e = r.accepted[0]!;
    expect(e).toMatchObject({
      type: 'track',
      userId: '42',
      event: 'Signed Up',
      messageId: 'generated-id',
      sourceId: 'web',
      receivedAt: '2026-01-01T12:00:00.000Z',
    });
    expect(e.timestamp).toBe('2026-01-01T12:00:00.000Z');
  });

  it('takes the type from the route, not the body', () => {
    const r = ingest(base({ route: 'identify', body: { type: 'track', userId: 'u', traits: { a: 1 } } }));
    expect(r.accepted[0]!.type).toBe('identify');
  });

  it('names the missing field of a single call', () => {
    expect(() => ingest(base({ body: { userId: 'u' } }))).toThrow(ValidationError);
    try {
      ingest(base({ body: { event: 'x' } }));
    } catch (err) {
      expect((err as ValidationError).issues).toEqual([
        { path: 'userId', message: expect.stringMatching(/^is missing; userId or anonymousId must be a usable id/) },
        { path: 'anonymousId', message: expect.stringMatching(/^is missing; userId or anonymousId must be a usable id/) },
      ]);
    }
  });

  it('requires groupId for group and previousId plus userId for alias', () => {
    expect(() => ingest(base({ route: 'group', body: { userId: 'u' } }))).toThrow(/groupId/);
    expect(() => ingest(base({ route: 'alias', body: { userId: 'u' } }))).toThrow(/previousId/);
    expect(ingest(base({ route: 'alias', body: { userId: 'u', previousId: 'a' } })).accepted).toHaveLength(1);
  });

  it('rejects placeholder identifiers that would link strangers', () => {
    for (const id of ['anonymous', 'null', '0', '-1', '000', 'undefined']) {
      expect(() => ingest(base({ body: { userId: id, event: 'x' } }))).toThrow(/usable/);
    }
  });

  it('rejects control characters and over-long ids', () => {
    expect(() => ingest(base({ body: { userId: 'a\u0000b', event: 'x' } }))).toThrow(/control/);
    expect(() => ingest(base({ body: { userId: 'x'.repeat(101), event: 'x' } }))).toThrow(/100/);
  });

  it('accepts the valid items of a batch and reports the rest by index', () => {
    const r = ingest(
      base({
        route: 'batch',
        body: {
          context: { library: { name: 'analytics-node' } },
          batch: [
            { type: 'identify', userId: 'u1', traits: { name: 'A' } },
            { type: 'track', userId: 'u1' },
            'not an object',
            { type: 'bogus', userId: 'u1' },
            { type: 'alias', userId: 'u1', previousId: 'a1', context: { ip: '1.2.3.4' } },
          ],
        },
      }),
    );
    expect(r.accepted.map((e) => e.type)).toEqual(['identify', 'alias']);
    expect(r.accepted[1]!.context).toEqual({ library: { name: 'analytics-node' }, ip: '1.2.3.4' });
    expect(r.rejected.map((x) => x.index)).toEqual([1, 2, 3]);
    expect(r.rejected[0]!.issues[0]!.path).toBe('batch[1].event');
    expect(r.rejected[2]!.issues[0]!.path).toBe('batch[3].type');
  });

  it('refuses a batch over the limit', () => {
    const batch = Array.from({ length: 3 }, () => ({ type: 'track', userId: 'u', event: 'e' }));
    expect(() => ingest(base({ route: 'batch', body: { batch }, limits: { maxBatchEvents: 2 } }))).toThrow(LimitExceededError);
  });

  it('fills context.ip and userAgent from the request when absent', () => {
    const r = ingest(base({ body: { userId: 'u', event: 'e', context: { ip: '9.9.9.9' } }, request: { ip: '1.1.1.1', userAgent: 'UA' } }));
    expect(r.accepted[0]!.context).toEqual({ ip: '9.9.9.9', userAgent: 'UA' });
  });
});

describe('correctTimestamp', () => {
  const rcv = new Date('2026-01-01T12:00:00.000Z');
  it('shifts by the delay between the event and its sending', () => {
    // The sender's clock is an hour fast; the event was made 10 s before it was sent.
    expect(correctTimestamp({ originalTimestamp: '2026-01-01T13:00:00.000Z', sentAt: '2026-01-01T13:00:10.000Z' }, rcv)).toBe(
      '2026-01-01T11:59:50.000Z',
    );
  });
  it('keeps the sender timestamp without sentAt, and falls back to receipt time', () => {
    expect(correctTimestamp({ timestamp: '2025-12-31T00:00:00.000Z' }, rcv)).toBe('2025-12-31T00:00:00.000Z');
    expect(correctTimestamp({}, rcv)).toBe('2026-01-01T12:00:00.000Z');
  });
});

describe('clock skew: timestamps in the future', () => {
  const rcv = new Date('2026-01-01T12:00:00.000Z');
  it('a timestamp more than an hour after receipt becomes the receipt time; originalTimestamp keeps what was sent', () => {
    expect(correctTimestamp({ timestamp: '2026-01-01T12:59:00.000Z' }, rcv)).toBe('2026-01-01T12:59:00.000Z');
    expect(correctTimestamp({ timestamp: '2026-01-01T13:00:01.000Z' }, rcv)).toBe('2026-01-01T12:00:00.000Z');
    expect(correctTimestamp({ timestamp: '2099-01-01T00:00:00.000Z' }, rcv)).toBe('2026-01-01T12:00:00.000Z');
    // originalTimestamp after sentAt: a broken sender; the corrected time would be in the future.
    expect(correctTimestamp({ originalTimestamp: '2026-01-03T00:00:00.000Z', sentAt: '2026-01-01T00:00:00.000Z' }, rcv)).toBe(
      '2026-01-01T12:00:00.000Z',
    );
    const r = ingest(base({ body: { userId: 'u', event: 'e', originalTimestamp: '2099-01-01T00:00:00.000Z' } }));
    expect(r.accepted[0]).toMatchObject({ timestamp: '2026-01-01T12:00:00.000Z', originalTimestamp: '2099-01-01T00:00:00.000Z' });
  });

  it('a batch-level sentAt (analytics-node) corrects the items', () => {
    const r = ingest(
      base({
        route: 'batch',
        body: {
          sentAt: '2026-01-01T13:00:10.000Z',
          batch: [{ type: 'track', userId: 'u', event: 'e', timestamp: '2026-01-01T13:00:00.000Z' }],
        },
      }),
    );
    expect(r.accepted[0]!.timestamp).toBe('2026-01-01T11:59:50.000Z');
  });

  it('stamps the party when given', () => {
    expect(ingest(base({ body: { userId: 'u', event: 'e' }, party: 'second' })).accepted[0]!.party).toBe('second');
  });
});
