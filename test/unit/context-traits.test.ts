/**
 * RudderStack's SDKs send identify traits in `context.traits`: they set traits, email and
 * phone identifiers and consent as `traits` do; `traits` win for a name in both.
 */
import { identifyTraits } from '../../core/profile';
import { extractEventIdentifiers } from '../../core/identity';
import { consentFromEvent } from '../../core/consent';
import { ingest } from '../../core/ingest';
import { ValidationError } from '../../core/errors';

describe('identify traits from context.traits', () => {
  it('merges context.traits under traits, for identify only', () => {
    expect({
      ...identifyTraits({ type: 'identify', context: { traits: { name: 'Ada', plan: 'free' } }, traits: { plan: 'pro' } }),
    }).toEqual({ name: 'Ada', plan: 'pro' });
    expect({ ...identifyTraits({ type: 'identify', context: { traits: { name: 'Ada' } } }) }).toEqual({ name: 'Ada' });
    expect(identifyTraits({ type: 'identify', traits: { a: 1 } })).toEqual({ a: 1 });
    expect(identifyTraits({ type: 'track', context: { traits: { name: 'Ada' } }, traits: { a: 1 } })).toBeUndefined();
    expect(identifyTraits({ type: 'identify', context: { traits: ['x'] } })).toBeUndefined();
  });

  it('reads email and phone identifiers and consent from context.traits', () => {
    const e = {
      type: 'identify' as const,
      userId: 'u1',
      context: { traits: { email: 'Ada@Example.com', phone: '+31 6 12345678', consent: { marketing: true } } },
    };
    expect(extractEventIdentifiers(e).identifiers).toEqual([
      { type: 'user_id', value: 'u1' },
      { type: 'email', value: 'ada@example.com' },
      { type: 'phone', value: '+31612345678' },
    ]);
    expect(consentFromEvent(e)).toEqual({ marketing: 'granted' });
  });

  it('counts context.traits toward the 300-traits limit of a call', () => {
    const many = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`t${i}`, i]));
    const more = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`c${i}`, i]));
    const body = { userId: 'u', traits: many, context: { traits: more } };
    expect(() => ingest({ route: 'identify', body, receivedAt: new Date(), sourceId: 's', newMessageId: () => 'm' })).toThrow(
      ValidationError,
    );
    expect(
      ingest({ route: 'track', body: { ...body, event: 'x' }, receivedAt: new Date(), sourceId: 's', newMessageId: () => 'm' }).accepted,
    ).toHaveLength(1);
  });
});
