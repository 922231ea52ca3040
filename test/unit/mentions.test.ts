import fc from 'fast-check';
import { DEFAULT_CONFIG, parseConfig } from '../../core/config';
import { normaliseIdentifier, type Identifier } from '../../core/identity';
import { MIN_SUBSTRING_CHARS, payloadMatcher, payloadMentions, payloadStrings } from '../../core/mentions';

const cfg = DEFAULT_CONFIG.identity;
const nl = parseConfig({ identity: { phoneDefaultRegion: 'NL' } }).identity;
const ada: Identifier[] = [
  { type: 'user_id', value: 'u-ada-1815' },
  { type: 'email', value: 'ada@example.com' },
  { type: 'phone', value: '+31612345678' },
];
const names = (payload: unknown, ids = ada, c = nl) =>
  payloadMentions(typeof payload === 'string' ? payload : JSON.stringify(payload), ids, c);

/** How collect cuts a long payload (`payloadPreview`). */
const cut = (text: string, at: number) => `${text.slice(0, at)}…(truncated from ${text.length})`;

describe('payloadMentions', () => {
  it('finds an identifier in any string at any depth, in the form it was sent in', () => {
    expect(names({ type: 'track', userId: 'u-ada-1815', event: '' })).toBe(true);
    expect(names({ type: 'identify', traits: { email: 'Ada@Example.COM', age: 'x'.repeat(5) } })).toBe(true);
    expect(names({ batch: [{ properties: { contacts: [{ mail: '  ADA@example.com ' }] } }] })).toBe(true);
    // A phone number in national format normalises (region NL) to the stored E.164 form.
    expect(names({ traits: { phone: '06 12345678' } })).toBe(true);
    expect(names({ traits: { phone: '+31 6 1234 5678' } })).toBe(true);
    // Keys name people too.
    expect(names({ properties: { 'ada@example.com': true } })).toBe(true);
  });

  it('finds a value inside a longer string, whatever its case', () => {
    expect(names({ properties: { note: 'write to ADA@EXAMPLE.COM tomorrow' } })).toBe(true);
    expect(names({ context: { page: { url: 'https://shop.example/account?user=U-ADA-1815&x=1' } } })).toBe(true);
  });

  it('reads a payload cut to size: the whole strings before the cut, and the raw text', () => {
    const long = JSON.stringify({ type: 'identify', traits: { email: 'Ada@Example.com', phone: '06 12345678', bio: 'y'.repeat(5000) } });
    const truncated = cut(long, 4096);
    expect(() => JSON.parse(truncated)).toThrow();
    expect(names(truncated, [{ type: 'email', value: 'ada@example.com' }])).toBe(true);
    expect(names(truncated, [{ type: 'phone', value: '+31612345678' }])).toBe(true);
    // Cut in the middle of the value's string literal: the raw text still holds the value.
    const midValue = JSON.stringify({ type: 'track', event: 'x', properties: { buyer: 'ADA@EXAMPLE.COM and more' } });
    expect(names(cut(midValue, midValue.indexOf('COM') + 3))).toBe(true);
  });

  it('finds a numeric user id and a short one as a whole value', () => {
    expect(names({ userId: 4242 }, [{ type: 'user_id', value: '4242' }], cfg)).toBe(true);
    expect(names({ userId: '42' }, [{ type: 'user_id', value: '42' }], cfg)).toBe(true);
    expect(names(cut('{"userId":"42","event":"aaaaaaaa', 25), [{ type: 'user_id', value: '42' }], cfg)).toBe(true);
  });

  it('does not search short values as substrings: `user_id:42` does not name every timestamp with a 42', () => {
    expect(MIN_SUBSTRING_CHARS).toBe(4);
    expect(
      names(
        { userId: 'someone', timestamp: '2024-05-06T10:42:00.000Z', properties: { revenue: 1421 } },
        [{ type: 'user_id', value: '42' }],
        cfg,
      ),
    ).toBe(false);
  });

  it('finds values with characters JSON escapes', () => {
    const odd: Identifier[] = [{ type: 'user_id', value: 'a"b\\c/d' }];
    expect(names({ userId: 'a"b\\c/d' }, odd, cfg)).toBe(true);
    expect(names({ note: 'see a"b\\c/d here' }, odd, cfg)).toBe(true);
  });

  it('leaves another person alone, and matches nothing without identifiers', () => {
    expect(names({ type: 'identify', userId: 'u-bob-1', traits: { email: 'bob@example.com', phone: '06 87654321', note: 'ada' } })).toBe(
      false,
    );
    expect(names('not json at all, and not about ada')).toBe(false);
    expect(names({ userId: 'u-ada-1815' }, [])).toBe(false);
    // Each value is compared under its own type: an email-shaped user id is not the email.
    expect(names({ userId: 'ada@example.org' })).toBe(false);
  });

  it('payloadStrings: values and keys of JSON; the whole string literals of other text', () => {
    expect(payloadStrings(JSON.stringify({ a: ['x', 1, { b: null, c: true }] }))).toEqual(['a', 'x', '1', 'b', 'c']);
    expect(payloadStrings('{"a":"x\\"y","b":"cut here')).toEqual(['a', 'x"y', 'b']);
  });
});

describe('payloadMatcher (properties)', () => {
  const low = fc.string({ unit: fc.constantFrom(...'abcdefghijklm'), minLength: MIN_SUBSTRING_CHARS, maxLength: 20 });
  /** Strings that cannot hold a value of `low`'s letters, in any case. */
  const otherText = fc.string({ unit: fc.constantFrom(...'nopqrstuvwxyz0123456789 .-_'), maxLength: 20 });
  const otherJson = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      otherText,
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(otherText, tie('value'), { maxKeys: 4 }),
    ),
  })).value;
  const randomCase = (s: string, flips: boolean[]) => [...s].map((ch, i) => (flips[i % flips.length] ? ch.toUpperCase() : ch)).join('');
  const identifier = fc.oneof(
    low.map((v) => ({ type: 'user_id', value: v })),
    fc.tuple(low, low).map(([l, d]) => ({ type: 'email', value: `${l}@${d}.com` })),
  );

  it('any text that embeds the value anywhere, in any case, is matched', () => {
    fc.assert(
      fc.property(identifier, fc.string(), fc.string(), fc.array(fc.boolean(), { minLength: 1 }), (id, before, after, flips) => {
        expect(payloadMentions(before + randomCase(id.value, flips) + after, [id], cfg)).toBe(true);
      }),
    );
  });

  it('any JSON payload holding the value in some string, cut anywhere after it, is matched', () => {
    fc.assert(
      fc.property(
        identifier,
        otherJson,
        otherText,
        otherText,
        fc.array(fc.boolean(), { minLength: 1 }),
        fc.nat(),
        (id, rest, before, after, flips, extra) => {
          const text = JSON.stringify({ rest, here: [rest, { note: before + randomCase(id.value, flips) + after }] });
          const end = text.indexOf(JSON.stringify(before + randomCase(id.value, flips) + after)) + before.length + id.value.length + 1;
          const at = Math.min(text.length, end + (extra % (text.length - end + 1)));
          expect(payloadMentions(text, [id], cfg)).toBe(true);
          expect(payloadMentions(cut(text, at), [id], cfg)).toBe(true);
        },
      ),
    );
  });

  it('a short value is matched as a whole string, also in a cut payload', () => {
    const short = fc.string({ unit: fc.constantFrom(...'abcdefghijklm'), minLength: 1, maxLength: MIN_SUBSTRING_CHARS - 1 });
    fc.assert(
      fc.property(short, otherJson, fc.nat(), (value, rest, extra) => {
        const id = { type: 'user_id', value };
        const text = JSON.stringify({ rest, userId: value, more: rest });
        const end = text.indexOf(`"userId":${JSON.stringify(value)}`) + `"userId":${JSON.stringify(value)}`.length;
        expect(payloadMentions(text, [id], cfg)).toBe(true);
        expect(payloadMentions(cut(text, end + (extra % (text.length - end + 1))), [id], cfg)).toBe(true);
      }),
    );
  });

  it("the matcher's shortcut holds: normalising text only trims it, an email only trims and lowercases it", () => {
    // payloadMatcher skips normalising a string unless its trimmed (lowercased) form is wanted.
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: 'binary' }),
          fc.emailAddress().map((e) => ` ${e.toUpperCase()} `),
        ),
        (s) => {
          const text = normaliseIdentifier('user_id', s, cfg);
          if (text.ok) expect(text.value).toBe(s.trim());
          const email = normaliseIdentifier('email', s, cfg);
          if (email.ok) expect(email.value).toBe(s.trim().toLowerCase());
        },
      ),
    );
  });

  it('a phone number written any way the region allows is matched', () => {
    const written = [
      '0612345678',
      '06-12345678',
      '06 1234 5678',
      '(06) 12 34 56 78',
      '+31612345678',
      '+31 (0)6 1234 5678',
      '0031 6 12345678',
      'tel: 06 12345678',
    ];
    for (const w of written)
      expect([w, payloadMentions(JSON.stringify({ traits: { phone: w } }), [{ type: 'phone', value: '+31612345678' }], nl)]).toEqual([
        w,
        true,
      ]);
  });

  it("a phone number in another country's national or international format is matched with the default region (issue 18 item 7)", () => {
    // The default region is US: `06-98765432` does not parse as a Dutch number there.
    const ids = [{ type: 'phone', value: '+31698765432' }];
    const written = [
      '06-98765432',
      '0698765432',
      '06 98 76 54 32',
      '(06) 98765432',
      '0031698765432',
      '00 31 6 98765432',
      '+31 6 98765432',
      '011 31 6 98765432',
      '698765432',
    ];
    for (const w of written)
      expect([w, payloadMentions(JSON.stringify({ type: 'track', properties: { contact: w } }), ids)]).toEqual([w, true]);
    // Not another number, nor the digits inside other text.
    for (const w of ['06-98765433', '0031698765431', 'order 0698765432x1'])
      expect([w, payloadMentions(JSON.stringify({ properties: { contact: w } }), ids)]).toEqual([w, false]);
  });

  it('payloads built from other values are not matched', () => {
    fc.assert(
      fc.property(fc.array(identifier, { minLength: 1, maxLength: 3 }), otherJson, fc.nat(), (ids, json, at) => {
        const text = JSON.stringify(json);
        const matches = payloadMatcher(ids, cfg);
        expect(matches(text)).toBe(false);
        expect(matches(cut(text, at % (text.length + 1)))).toBe(false);
      }),
    );
  });
});
