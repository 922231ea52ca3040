/**
 * Anonymous browser traffic: analytics.js sends `"userId": null` and RudderStack JS
 * `"userId": ""` before identify. Null and empty ids mean absent (Segment spec): the event is
 * accepted on its other id; when neither is usable, the 400 names both fields and says why.
 */
import fc from 'fast-check';
import { ingest, type IngestInput } from '../../core/ingest';
import { ValidationError } from '../../core/errors';
import { identifierIssues, unusableIdReason } from '../../core/identifiers';

const input = (route: IngestInput['route'], body: unknown): IngestInput => ({
  route,
  body,
  receivedAt: new Date('2026-01-01T12:00:00.000Z'),
  sourceId: 'web',
  newMessageId: () => 'generated-id',
});

function issuesOf(route: IngestInput['route'], body: unknown) {
  try {
    ingest(input(route, body));
  } catch (err) {
    if (err instanceof ValidationError) return err.issues;
    throw err;
  }
  throw new Error('accepted');
}

describe('null and empty ids mean absent', () => {
  it('accepts analytics.js anonymous calls (userId null) and stores no userId', () => {
    const r = ingest(input('page', { userId: null, anonymousId: 'a-1', name: 'Home' }));
    expect(r.accepted).toHaveLength(1);
    expect(r.accepted[0]).toMatchObject({ type: 'page', anonymousId: 'a-1' });
    expect(r.accepted[0]!.userId).toBeUndefined();
    expect(JSON.parse(JSON.stringify(r.accepted[0]))).not.toHaveProperty('userId');
  });

  it('accepts RudderStack anonymous calls (userId "") and a logged-in call with a null anonymousId', () => {
    expect(ingest(input('track', { userId: '', anonymousId: 'a-2', event: 'Viewed' })).accepted[0]).toMatchObject({
      anonymousId: 'a-2',
      event: 'Viewed',
    });
    expect(ingest(input('track', { userId: '  ', anonymousId: 'a-2', event: 'Viewed' })).accepted[0]!.userId).toBeUndefined();
    expect(ingest(input('identify', { userId: 'u-1', anonymousId: null, traits: { a: 1 } })).accepted[0]).toMatchObject({ userId: 'u-1' });
  });

  it('generates a message id for a null one; a null groupId or previousId is missing', () => {
    expect(ingest(input('track', { anonymousId: 'a', event: 'x', messageId: null })).accepted[0]!.messageId).toBe('generated-id');
    expect(issuesOf('group', { anonymousId: 'a', groupId: null })).toEqual([{ path: 'groupId', message: 'is required for group' }]);
    expect(issuesOf('alias', { userId: 'u', previousId: '' })).toEqual([{ path: 'previousId', message: 'is required for alias' }]);
  });

  it('names both fields, each with its reason, when neither is usable', () => {
    const issues = issuesOf('track', { userId: null, anonymousId: '', event: 'x' });
    expect(issues.map((i) => i.path)).toEqual(['userId', 'anonymousId']);
    expect(issues[0]!.message).toMatch(/^is null; userId or anonymousId must be a usable id/);
    expect(issues[1]!.message).toMatch(/^is empty; /);
    const placeholder = issuesOf('page', { userId: 'anonymous' });
    expect(placeholder[0]!.message).toMatch(/^is a placeholder value \("anonymous"\); /);
    expect(placeholder[1]!.message).toMatch(/^is missing; /);
  });

  it('reports the id fields together with the other faults of the call', () => {
    expect(issuesOf('track', { userId: null }).map((i) => i.path)).toEqual(['event', 'userId', 'anonymousId']);
  });

  it('names both fields by index in a batch and accepts the other items', () => {
    const r = ingest(
      input('batch', {
        batch: [
          { type: 'page', userId: null, anonymousId: null },
          { type: 'page', userId: null, anonymousId: 'a' },
        ],
      }),
    );
    expect(r.accepted).toHaveLength(1);
    expect(r.rejected).toEqual([
      {
        index: 0,
        issues: [
          { path: 'batch[0].userId', message: expect.stringMatching(/^is null; /) },
          { path: 'batch[0].anonymousId', message: expect.stringMatching(/^is null; /) },
        ],
      },
    ]);
  });

  it('keeps accepting a placeholder anonymousId next to a usable email', () => {
    expect(ingest(input('identify', { anonymousId: 'anonymous', traits: { email: 'ada@example.com' } })).accepted).toHaveLength(1);
  });
});

describe('identifierIssues (property)', () => {
  const absent = fc.constantFrom(undefined, null, '', ' ', '\t');
  const placeholder = fc.constantFrom('anonymous', 'null', 'undefined', '0', '-1', '000', 'Unknown', 'NaN', 0, -1);
  const usable = fc.oneof(
    fc.stringMatching(/^[a-zA-Z1-9][a-zA-Z0-9_.-]{0,30}$/).filter((s) => unusableIdReason(s) === undefined),
    fc.integer({ min: 1 }),
  );
  const idValue = fc.oneof(absent, placeholder, usable);

  it('accepts a call exactly when one id is usable; otherwise names both fields with their reason', () => {
    fc.assert(
      fc.property(idValue, idValue, (userId, anonymousId) => {
        const body: Record<string, unknown> = { event: 'Viewed' };
        if (userId !== undefined) body.userId = userId;
        if (anonymousId !== undefined) body.anonymousId = anonymousId;
        const ok = unusableIdReason(userId) === undefined || unusableIdReason(anonymousId) === undefined;
        let issues: readonly { path: string; message: string }[] = [];
        try {
          const r = ingest(input('track', body));
          const e = r.accepted[0]!;
          // What was absent is not stored; what was usable is, as a string.
          if (unusableIdReason(userId) === undefined) expect(e.userId).toBe(String(userId).trim());
          if (userId === null || userId === undefined || (typeof userId === 'string' && userId.trim() === ''))
            expect(e.userId).toBeUndefined();
        } catch (err) {
          issues = (err as ValidationError).issues;
        }
        expect(issues.length === 0).toBe(ok);
        if (!ok) {
          expect(issues.map((i) => i.path)).toEqual(['userId', 'anonymousId']);
          expect(
            issues[0]!.message.startsWith(
              `is ${{ missing: 'missing', null: 'null', empty: 'empty', placeholder: 'a placeholder', unusable: 'not' }[unusableIdReason(userId)!]}`,
            ),
          ).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('identifierIssues agrees without a parsed event (schema failed): no issue when a field may be usable', () => {
    fc.assert(
      fc.property(idValue, idValue, (userId, anonymousId) => {
        const issues = identifierIssues({ userId, anonymousId }, undefined);
        const mayBe = unusableIdReason(userId) === undefined || unusableIdReason(anonymousId) === undefined;
        expect(issues.length === 0).toBe(mayBe);
      }),
    );
  });
});
