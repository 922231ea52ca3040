/** The README snippet marker (test/helpers/readme.ts): what is runnable and what it must print. */
import { documentedOutputs, parseSnippets, pattern } from '../helpers/readme';

it('takes the block after a marker, with its options and documented outputs', () => {
  const md = [
    'text',
    '<!-- test -->',
    '```sh',
    '# what this does (a comment before any command is not output)',
    'curl -s "$URL/v1/track" \\',
    "  -d '{}'",
    '# {"success":true}',
    '',
    '# another explanation',
    'echo hi',
    '```',
    '```sh',
    'not marked',
    '```',
    '  <!-- test: browser -->',
    '  ```js',
    '  await fetch(API);',
    '  ```',
    '<!-- test: output -->',
    '```',
    '[bus] Action Triggered {…}',
    '```',
  ].join('\n');
  const s = parseSnippets(md);
  expect(s.map((x) => [x.line, x.kind, x.eventually])).toEqual([
    [3, 'sh', false],
    [16, 'browser', false],
    [20, 'output', false],
  ]);
  expect(s[0]!.expected).toEqual(['{"success":true}']);
  expect(s[1]!.code).toBe('await fetch(API);');
  expect(s[2]!.expected).toEqual(['[bus] Action Triggered {…}']);
});

it('refuses a marker without a block, an unknown option, or the wrong language', () => {
  expect(() => parseSnippets('<!-- test -->\ntext')).toThrow(/README.md:1: .*directly followed/);
  expect(() => parseSnippets('<!-- test: sometimes -->\n```sh\nx\n```')).toThrow(/unknown test option "sometimes"/);
  expect(() => parseSnippets('<!-- test: browser -->\n```sh\nx\n```')).toThrow(/must be a ```js block/);
});

it('documented outputs: several lines, several commands; … matches anything', () => {
  expect(documentedOutputs('a\n# {\n#   "x": 1\n# }\nb\n# 2')).toEqual(['{\n  "x": 1\n}', '2']);
  const p = pattern(['{"id":"…","n":1}', 'done']);
  expect(p.test('{"id":"abc","n":1} and then done')).toBe(true);
  expect(p.test('{"id":"abc","n":2} done')).toBe(false);
  expect(p.test('done {"id":"abc","n":1}')).toBe(false);
});
