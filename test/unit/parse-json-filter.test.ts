/**
 * parseJson's quick check (is there any number token that could be unsafe?) never misses one:
 * for generated JSON texts (odd whitespace, big integers, exponents, tiny fractions, digits and
 * punctuation inside strings) parseJson gives what checking every parsed value gives.
 */
import fc from 'fast-check';
import { isStorableNumber, parseJson } from '../../core/numbers';

/** parseJson without the quick check: every parsed value is checked (the definition). */
function reference(text: string): unknown {
  const value: unknown = JSON.parse(text);
  const unsafe = (v: unknown): boolean =>
    typeof v === 'number'
      ? !isStorableNumber(v)
      : v !== null && typeof v === 'object' && Object.values(v as Record<string, unknown>).some(unsafe);
  if (!unsafe(value)) return value;
  return JSON.parse(
    text.replace(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g, (tok) =>
      tok.charCodeAt(0) === 0x22 || isStorableNumber(Number(tok)) ? tok : `"${tok}"`,
    ),
  );
}

const ws = fc.constantFrom('', ' ', '\n', '\t', '\r\n  ');
const numberToken = fc.oneof(
  fc.constantFrom(
    '0',
    '-0',
    '12',
    '1.5',
    '9007199254740991',
    '9007199254740993',
    '12345678901234567890123',
    '-12345678901234567890',
    '1e200',
    '-1E-200',
    '2e5',
    '1.25e+3',
    `0.${'0'.repeat(140)}1`,
    '0.1234567890123456789',
    '1234567890123456.5',
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.integer().map(String),
);
const stringToken = fc
  .oneof(
    fc.constantFrom('5c6c970f-d72e-471a-a7da-56936399f181', 'a:1e5', 'x,12345678901234567', '[2e-4', '"', '\\'),
    fc.string({ maxLength: 10 }),
  )
  .map((s) => JSON.stringify(s));
const text = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    numberToken,
    stringToken,
    fc.constantFrom('true', 'false', 'null'),
    fc
      .tuple(fc.array(fc.tuple(ws, tie('value'), ws), { maxLength: 4 }), ws)
      .map(([xs, w]) => `[${w}${xs.map(([a, v, b]) => `${a}${v}${b}`).join(',')}]`),
    fc
      .tuple(fc.array(fc.tuple(stringToken, ws, tie('value'), ws), { maxLength: 4 }), ws)
      .map(([xs, w]) => `{${w}${xs.map(([k, a, v, b]) => `${k}${a}:${a}${v}${b}`).join(',')}}`),
  ),
})).value;

describe('parseJson', () => {
  it('converts every unsafe number, as checking each parsed value does', () => {
    fc.assert(
      fc.property(ws, text, ws, (a, t, b) => {
        const body = `${a}${t}${b}`;
        expect(parseJson(body)).toEqual(reference(body));
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps the digits of unsafe numbers after any whitespace or punctuation', () => {
    expect(parseJson('{"n":\n 12345678901234567890123}')).toEqual({ n: '12345678901234567890123' });
    expect(parseJson('[1,\t-1e200, 0.5]')).toEqual([1, '-1e200', 0.5]);
    expect(parseJson('{"id":"5c6c970f-d72e-471a","t":[ 9007199254740993 ]}')).toEqual({
      id: '5c6c970f-d72e-471a',
      t: ['9007199254740993'],
    });
    expect(parseJson(' 1e400')).toBe('1e400');
    expect(parseJson(`{"x":0.${'0'.repeat(140)}1}`)).toEqual({ x: `0.${'0'.repeat(140)}1` });
  });
});
