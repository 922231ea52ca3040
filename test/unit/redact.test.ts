/**
 * Redaction of another profile's event naming an erased person (`core/redact.ts`) with the
 * erasure matcher (`core/mentions.ts`), and refs of refused identifiers (`core/identifiers.ts`).
 */
import fc from 'fast-check';
import { identifierDigest, identifierRef, identifierTypeOf, parseIdentifierKey, parseIdentifierRef } from '../../core/identity';
import { payloadMatcher } from '../../core/mentions';
import { redactNamed } from '../../core/redact';

const matcher = payloadMatcher([
  { type: 'anonymous_id', value: 'anon-ada-1' },
  { type: 'email', value: 'ada@example.com' },
]);

test('takes every value naming the person out of an event, keys included, and keeps the rest', () => {
  const event = {
    type: 'track',
    userId: 'test',
    anonymousId: 'anon-ada-1',
    messageId: 'm-1',
    context: { traits: { email: 'Ada@Example.COM', plan: 'pro' }, ids: ['x', 'anon-ada-1'] },
    properties: { note: 'left by anon-ada-1', 'ada@example.com': true, count: 3 },
  };
  const r = redactNamed(event, matcher);
  expect(r.value).toEqual({
    type: 'track',
    userId: 'test',
    messageId: 'm-1',
    context: { traits: { plan: 'pro' }, ids: ['x'] },
    properties: { count: 3 },
  });
  expect(r.removed).toBe(5);
  expect(JSON.stringify(r.value).toLowerCase()).not.toMatch(/anon-ada-1|ada@example\.com/);
  // Nothing named: the same content, nothing removed.
  expect(redactNamed({ a: 'b', c: [1, 'd'] }, matcher)).toEqual({ value: { a: 'b', c: [1, 'd'] }, removed: 0 });
});

test('refs: type and the SHA-256 of type:value, never read as an identifier key', () => {
  fc.assert(
    fc.property(fc.constantFrom('email', 'user_id', 'anonymous_id'), fc.string({ minLength: 1 }), (type, value) => {
      const key = `${type}:${value}`;
      const ref = identifierRef(key);
      expect(ref).toBe(`${type}#${identifierDigest(key)}`);
      expect(parseIdentifierRef(ref)).toEqual({ type, digest: identifierDigest(key) });
      expect(parseIdentifierKey(ref)).toBeUndefined();
      expect(ref).not.toContain(value.length > 8 ? value : '\u0000');
      expect(identifierTypeOf(ref)).toBe(type);
      expect(identifierTypeOf(key)).toBe(type);
    }),
  );
  expect(parseIdentifierRef('email:ada@example.com')).toBeUndefined();
});
