/**
 * The compressed phone metadata in the bundles (`core/phone-metadata.ts`) is exactly the `min`
 * metadata of the installed libphonenumber-js, and parsing through it answers as the library's
 * default entry point does. After upgrading libphonenumber-js: `node --import tsx scripts/phone-metadata.ts`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { parsePhone, phoneMetadata } from '../../core/phone';
import { PHONE_METADATA_VERSION } from '../../core/phone-metadata';

const pkg = join(__dirname, '../../node_modules/libphonenumber-js');

it('is the installed libphonenumber-js min metadata (regenerate with scripts/phone-metadata.ts after an upgrade)', () => {
  expect(PHONE_METADATA_VERSION).toBe(JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).version);
  expect(phoneMetadata()).toEqual(JSON.parse(readFileSync(join(pkg, 'metadata.min.json'), 'utf8')));
});

it.each([
  ['+31 6 12345678', undefined],
  ['06 12345678', 'NL'],
  ['(415) 555-2671', 'US'],
  ['+44 20 7946 0958', undefined],
  ['0044 20 7946 0958', 'DE'],
  ['12345', 'NL'],
  ['+1 800 FLOWERS', undefined],
  ['not a number', 'US'],
] as const)('parses %s (region %s) as the default entry point does', (text, region) => {
  const ours = parsePhone(text, region);
  const theirs = parsePhoneNumberFromString(text, region);
  expect(ours?.number).toBe(theirs?.number);
  expect(ours?.isValid()).toBe(theirs?.isValid());
  expect(ours?.formatNational()).toBe(theirs?.formatNational());
});
