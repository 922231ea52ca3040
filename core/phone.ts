/**
 * Phone numbers through libphonenumber-js's `core` entry point with the `min` metadata (what its
 * default entry point uses), kept compressed in the bundle (`core/phone-metadata.ts`, 22 KB
 * instead of 82 KB) and inflated once, on the first number parsed (about 2 ms).
 */
import { parsePhoneNumberFromString, type CountryCode, type MetadataJson, type PhoneNumber } from 'libphonenumber-js/core';
import { brotliDecompressSync } from 'node:zlib';
import { PHONE_METADATA_BROTLI_BASE64 } from './phone-metadata';

export type { CountryCode, PhoneNumber };

let metadata: MetadataJson | undefined;

/** The metadata, inflated on first use. */
export function phoneMetadata(): MetadataJson {
  metadata ??= JSON.parse(brotliDecompressSync(Buffer.from(PHONE_METADATA_BROTLI_BASE64, 'base64')).toString('utf8')) as MetadataJson;
  return metadata;
}

/** `parsePhoneNumberFromString` of libphonenumber-js: numbers without a country code are read in `region`. */
export function parsePhone(text: string, region?: CountryCode): PhoneNumber | undefined {
  return region === undefined
    ? parsePhoneNumberFromString(text, phoneMetadata())
    : parsePhoneNumberFromString(text, region, phoneMetadata());
}
