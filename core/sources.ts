/**
 * Sources: where events come from (a web shop, an app, a CRM, a data partner), each with a
 * party, a trust level (`core/trust.ts`) and write keys. Keys are only ever kept as SHA-256
 * digests.
 */
import * as crypto from 'node:crypto';
import { createHash, randomBytes } from 'node:crypto';
import * as z from 'zod';
import { PARTIES, TRUST_LEVELS, type Party, type Trust } from './events';
import { RateLimitSchema, type RateLimit } from './rate-limit';

export interface Source {
  readonly id: string;
  readonly name: string;
  readonly party: Party;
  /**
   * `public`: its key is in page source or an app (browser, mobile); `trusted`: a server source.
   * Absent on sources created before trust levels: public.
   */
  readonly trust?: Trust;
  /** Its own request limit in collect (`core/rate-limit.ts`); absent: the deployment's `sourceRateLimit`. */
  readonly rateLimit?: RateLimit;
  readonly createdAt: string;
}

/** A source's trust level (absent: public). */
export function sourceTrust(s: Pick<Source, 'trust'>): Trust {
  return s.trust === 'trusted' ? 'trusted' : 'public';
}

export type KeyStatus = 'active' | 'revoked';

/** A write key as stored: its id and state, never the key itself. */
export interface SourceKey {
  readonly id: string;
  readonly sourceId: string;
  readonly status: KeyStatus;
  readonly createdAt: string;
  readonly revokedAt?: string;
}

/** The source bootstrap keys belong to (env locally, Secrets Manager in the cloud): public, as browsers use its write key. */
export const DEFAULT_SOURCE: Source = {
  id: 'default',
  name: 'Default (bootstrap write key)',
  party: 'first',
  trust: 'public',
  createdAt: '1970-01-01T00:00:00.000Z',
};

export const NewSourceSchema = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(100, 'must be at most 100 characters')
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters'),
  party: z.enum(PARTIES, { message: `must be one of ${PARTIES.join(', ')}` }),
  /** `trusted` only for a server source whose key never reaches a browser or an app. @default 'public' */
  trust: z.enum(TRUST_LEVELS, { message: `must be one of ${TRUST_LEVELS.join(', ')}` }).default('public'),
  /** `{ rate, burst }`: requests per second and burst for this source's keys. @default the deployment's `sourceRateLimit` */
  rateLimit: RateLimitSchema.optional(),
});
export type NewSource = z.infer<typeof NewSourceSchema>;

/** What two source names must not share: the name trimmed and lower-cased (`CRM` and ` crm` are one name). */
export function sourceNameKey(name: string): string {
  return name.trim().toLowerCase();
}

/** `PATCH /v1/sources/{id}`: a new trust level and/or rate limit (`null`: back to the deployment's default). */
export const SourceChangeSchema = z
  .strictObject({
    trust: z.enum(TRUST_LEVELS, { message: `must be one of ${TRUST_LEVELS.join(', ')}` }).optional(),
    rateLimit: RateLimitSchema.nullable().optional(),
  })
  .refine((c) => c.trust !== undefined || c.rateLimit !== undefined, { message: 'give trust or rateLimit', path: ['trust'] });
export type SourceChange = z.infer<typeof SourceChangeSchema>;

const ONE_SHOT_HASH = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/** Hex SHA-256 of a key: the only form in which a key is stored or compared. */
export function keyDigest(key: string): string {
  // One-shot `crypto.hash` (Node 20.12+, a fifth of createHash's cost: collect hashes every request's key).
  return ONE_SHOT_HASH ? ONE_SHOT_HASH('sha256', key, 'hex') : createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Generated ids contain only `[a-z0-9_]`, never a key separator. */
/**
 * Whether a source or key id from a path could be one Scherp made (`src_…`, `key_…`, `default`):
 * any other (too long, odd characters) names nothing, and never reaches the store as a key.
 */
export function isPossibleId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,100}$/.test(id);
}

export function newSourceId(): string {
  return `src_${randomBytes(8).toString('hex')}`;
}

export function newKeyId(): string {
  return `key_${randomBytes(6).toString('hex')}`;
}

/** A write key: 32 URL-safe characters (192 random bits), like Segment's. */
export function newWriteKey(): string {
  return randomBytes(24).toString('base64url');
}
