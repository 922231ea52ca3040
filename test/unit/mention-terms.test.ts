/**
 * The index terms of kept rejected events (core/mention-terms.ts): every way the matcher can
 * find a person through an email, a phone number or an id field, the index finds the record too.
 */
import fc from 'fast-check';
import { identifierTerms, mentionTerms, MAX_MENTION_TERMS } from '../../core/mention-terms';
import { payloadMatcher } from '../../core/mentions';
import { payloadPreview } from '../../app/collect';

const ids = [
  { type: 'user_id', value: 'u-ada-1815' },
  { type: 'email', value: 'ada@example.com' },
  { type: 'phone', value: '+31698765432' },
];
const wanted = payloadMatcher(ids).terms;
const found = (payload: unknown, issues: unknown[] = []) => {
  const terms = mentionTerms(typeof payload === 'string' ? payload : payloadPreview(payload), JSON.stringify(issues)) ?? [];
  return wanted.some((t) => terms.includes(t));
};

describe('mentionTerms', () => {
  it('indexes emails and phone numbers anywhere, in any writing, and id fields at any depth', () => {
    expect(found({ properties: { contact: 'Ada@Example.COM' } })).toBe(true);
    expect(found({ properties: { note: 'mail ada@example.com please' } })).toBe(true);
    expect(found({ traits: { phone: '06-98765432' } })).toBe(true);
    expect(found({ properties: { p: '0031698765432' } })).toBe(true);
    expect(found({ properties: { p: '+31 6 98 76 54 32' } })).toBe(true);
    expect(found({ userId: 'U-Ada-1815' })).toBe(true);
    expect(found({ context: { externalIds: [{ id: 'u-ada-1815', type: 'crm' }] } })).toBe(true);
    expect(found({ type: 'identify', traits: {} }, [{ path: 'traits.ada@example.com', message: 'must be a string' }])).toBe(true);
    // Cut to size: the id field and the literals before the cut.
    expect(found(payloadPreview({ userId: 'u-ada-1815', properties: { note: 'y'.repeat(5000) } }))).toBe(true);
    expect(found(payloadPreview({ properties: { note: 'y'.repeat(5000) } }))).toBe(false);
    expect(found({ userId: 'someone-else', traits: { email: 'bob@example.com', phone: '06 12345678' } })).toBe(false);
  });

  it('dates and IP addresses are no phone numbers', () => {
    expect(mentionTerms(JSON.stringify({ timestamp: '2026-01-01T00:00:00.000Z', context: { ip: '203.0.113.54' } }), '[]')).toEqual([]);
  });

  it(`a payload with more than ${MAX_MENTION_TERMS} identifier-like values has no terms (it is not kept)`, () => {
    const many = Object.fromEntries(Array.from({ length: MAX_MENTION_TERMS + 1 }, (_, i) => [`k${i}`, `p${i}@example.com`]));
    expect(mentionTerms(JSON.stringify(many), '[]')).toBeUndefined();
  });

  it('every email the matcher finds in a payload is indexed under its term', () => {
    fc.assert(
      fc.property(fc.emailAddress(), fc.constantFrom('', ' ', 'x '), (email, pad) => {
        const payload = payloadPreview({ properties: { contact: `${pad}${email.toUpperCase()}` } });
        const terms = mentionTerms(payload, '[]') ?? [];
        const id = { type: 'email', value: email.toLowerCase() };
        if (payloadMatcher([id])(payload)) expect(identifierTerms(id, 'email').some((t) => terms.includes(t))).toBe(true);
      }),
    );
  });
});
