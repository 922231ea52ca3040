import fc from 'fast-check';
import { absorb, applyTraits, mergeTraits, newProfile, newProfileId, withEvent, type Traits } from '../../core/profile';
import { chooseSurvivor, extractIdentifiers, parseIdentifierKey } from '../../core/identity';

const traitEvent = fc.record({
  traits: fc.dictionary(fc.constantFrom('name', 'plan', 'city', '__proto__', 'constructor'), fc.oneof(fc.string(), fc.integer())),
  at: fc.date({ min: new Date('2025-01-01'), max: new Date('2026-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
});

describe('traits', () => {
  it('newest value per trait wins, whatever the order events arrive in', () => {
    fc.assert(
      fc.property(fc.array(traitEvent, { maxLength: 8 }), fc.func(fc.integer()), (events, _f) => {
        const apply = (list: typeof events) => list.reduce<Traits>((t, e) => applyTraits(t, e.traits, e.at, 'src'), {});
        const reversed = [...events].reverse();
        expect(apply(reversed)).toEqual(apply(events));
      }),
    );
  });

  it('applying the same event twice changes nothing', () => {
    fc.assert(
      fc.property(traitEvent, (e) => {
        const once = applyTraits({}, e.traits, e.at, 's');
        expect(applyTraits(once, e.traits, e.at, 's')).toEqual(once);
      }),
    );
  });

  it('never lets __proto__ or constructor through', () => {
    const t = applyTraits({}, JSON.parse('{"__proto__":{"polluted":1},"constructor":1,"ok":2}'), '2026-01-01T00:00:00Z', 's');
    expect(Object.keys(t)).toEqual(['ok']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('mergeTraits is commutative', () => {
    const traits = fc.array(traitEvent, { maxLength: 4 }).map((es) => es.reduce<Traits>((t, e) => applyTraits(t, e.traits, e.at, 's'), {}));
    fc.assert(fc.property(traits, traits, (a, b) => expect(mergeTraits(a, b)).toEqual(mergeTraits(b, a))));
  });
});

describe('profiles', () => {
  it('absorb unites identifiers and remembers merged ids', () => {
    const a = newProfile('a', ['user_id:1'], '2026-01-01T00:00:00Z');
    const b = { ...newProfile('b', ['anonymous_id:x'], '2026-01-01T00:00:00Z'), mergedFrom: ['c'] };
    const m = absorb(a, [b], '2026-01-02T00:00:00Z');
    expect(m.identifiers).toEqual(['anonymous_id:x', 'user_id:1']);
    expect(m.mergedFrom).toEqual(['b', 'c']);
  });

  it('withEvent returns the same object when nothing changes', () => {
    const p = withEvent(newProfile('a', ['user_id:1'], '2026-01-01T00:00:00Z'), ['user_id:1'], { x: 1 }, '2026-01-01T00:00:00Z', 's');
    expect(withEvent(p, ['user_id:1'], { x: 1 }, '2026-01-01T00:00:00Z', 's')).toBe(p);
  });

  it('profile ids sort by creation time so the oldest survives', () => {
    const older = newProfileId(1000);
    const newer = newProfileId(2000);
    expect(chooseSurvivor([newer, older])).toBe(older);
  });
});

describe('identifiers', () => {
  it('extracts user and anonymous ids, and alias previous ids', () => {
    expect(extractIdentifiers({ type: 'track', userId: 'u', anonymousId: 'a' })).toEqual([
      { type: 'user_id', value: 'u' },
      { type: 'anonymous_id', value: 'a' },
    ]);
    expect(extractIdentifiers({ type: 'alias', userId: 'u', previousId: 'old' })).toEqual([
      { type: 'user_id', value: 'u' },
      { type: 'user_id', value: 'old' },
    ]);
  });
  it('parses type:value keys whose value holds colons', () => {
    expect(parseIdentifierKey('user_id:a:b')).toEqual({ type: 'user_id', value: 'a:b' });
    expect(parseIdentifierKey('nocolon')).toBeUndefined();
  });
});
