/**
 * Scherp's configuration, defined once: the CDK construct's `config` prop, the local
 * `scherp.config.json` and the `SCHERP_CONFIG` variable the functions read all go through
 * {@link ScherpConfigSchema}. Every field has a default, so `{}` is a complete configuration.
 * Sections other than `identity` are added by other features next to it.
 */
import * as z from 'zod';
import { ComputedConfigSchema } from './computed';
import { TraitsConfigSchema } from './profile';
import { ContextConfigSchema } from './context';
import { zodIssues } from './validation';
import { dict, own } from './dict';

/** How an identifier's value is normalised before it is used. */
export const IDENTIFIER_FORMATS = ['text', 'email', 'phone'] as const;

/**
 * Where an identifier type is read from: a dotted path into the event (`userId`,
 * `traits.email`, `context.device.id`), or `context.externalIds`, which takes the entries of
 * Segment's `externalIds` array whose `type` is this identifier type.
 */
export const EXTERNAL_IDS_SOURCE = 'context.externalIds';

const typeName = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,39}$/, 'identifier types are 1-40 characters of a-z, 0-9 and _, starting with a letter');

const IdentifierTypeInputSchema = z
  .object({
    /** Event paths the type is read from (see {@link EXTERNAL_IDS_SOURCE}). */
    from: z.array(z.string().min(1).max(200)).min(1).optional(),
    /** @default 'text' ('email' for email, 'phone' for phone) */
    format: z.enum(IDENTIFIER_FORMATS).optional(),
    /** Most identifiers of this type one profile may hold. @default 1 for user_id, 5 otherwise */
    limit: z.number().int().min(1).max(1000).optional(),
  })
  .strict();

export interface IdentifierTypeConfig {
  readonly from: readonly string[];
  readonly format: (typeof IDENTIFIER_FORMATS)[number];
  readonly limit: number;
}

/** The identifier types Scherp knows without configuration, in their default priority order. */
export const DEFAULT_IDENTIFIER_TYPES: Readonly<Record<string, IdentifierTypeConfig>> = dict({
  user_id: { from: ['userId'], format: 'text', limit: 1 },
  email: { from: ['traits.email', 'context.traits.email'], format: 'email', limit: 5 },
  phone: { from: ['traits.phone', 'context.traits.phone'], format: 'phone', limit: 5 },
  anonymous_id: { from: ['anonymousId'], format: 'text', limit: 5 },
  device_id: { from: ['context.device.id'], format: 'text', limit: 5 },
  advertising_id: { from: ['context.device.advertisingId'], format: 'text', limit: 5 },
});

const DEFAULT_LIMIT = 5;

export const IdentityConfigSchema = z
  .object({
    /**
     * Identifier types, merged over {@link DEFAULT_IDENTIFIER_TYPES} field by field; `false`
     * switches a default type off. A new type needs `from`.
     */
    types: z.record(typeName, z.union([IdentifierTypeInputSchema, z.literal(false)])).default({}),
    /** Types in priority order; types not listed follow in declaration order. */
    priority: z.array(typeName).default(['user_id', 'email', 'phone']),
    /** Values that never identify anyone, on top of the built-in ones (compared case-insensitively). */
    blockedValues: z.array(z.string().max(1000)).max(1000).default([]),
    /** Region for phone numbers written without a country code (ISO 3166-1 alpha-2). */
    phoneDefaultRegion: z
      .string()
      .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as NL')
      .default('US'),
    /** Merges one profile may absorb; further links are refused and recorded. */
    maxMergesPerProfile: z.number().int().min(0).max(10_000).default(100),
    /** Longest identifier value, after normalisation. */
    maxIdentifierLength: z.number().int().min(1).max(1000).default(100),
    /**
     * An explicit `alias` call (Segment: "merge with the previousId") links its `previousId`
     * even when that takes the profile over the limit of the previousId's type, up to `limit`
     * identifiers of that type (the type's own limit when that is larger). Beyond it the link is
     * refused, recorded and announced as `Profile Merge Refused` (reason `alias_limit`).
     * `limit: 1` makes an alias obey the type limits like any other event.
     */
    alias: z
      .strictObject({
        /** @default 5 */
        limit: z.number().int().min(1).max(1000).default(5),
      })
      .prefault({}),
    /**
     * The circuit breaker (`core/breaker.ts`): a profile that within `windowSeconds` would absorb
     * more than `merges` profiles, or gain more than `identifiers` identifiers of one type, is
     * quarantined: that link and every later merge into it are refused and recorded,
     * `Identity Anomaly` goes on the bus, until an admin releases it. `enabled: false` switches it off.
     */
    quarantine: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** @default 25 */
        merges: z.number().int().min(1).max(10_000).default(25),
        /** @default 25 */
        identifiers: z.number().int().min(1).max(10_000).default(25),
        /** @default 86400 (a day) */
        windowSeconds: z.number().int().min(1).max(31_536_000).default(86_400),
      })
      .prefault({}),
  })
  .strict()
  .transform((c, ctx) => {
    // Null-prototype: `cfg.types[t]` for a type an event names (`constructor`) is simply absent.
    const types = dict<IdentifierTypeConfig>();
    for (const [name, def] of Object.entries(DEFAULT_IDENTIFIER_TYPES)) if (own(c.types, name) !== false) types[name] = def;
    for (const [name, given] of Object.entries(c.types)) {
      if (given === false) continue;
      const base = own(DEFAULT_IDENTIFIER_TYPES, name);
      const from = given.from ?? base?.from;
      if (!from) {
        ctx.addIssue({ code: 'custom', path: ['types', name, 'from'], message: 'is required for a new identifier type' });
        continue;
      }
      types[name] = { from, format: given.format ?? base?.format ?? 'text', limit: given.limit ?? base?.limit ?? DEFAULT_LIMIT };
    }
    for (const [i, p] of c.priority.entries()) {
      if (!own(types, p))
        ctx.addIssue({
          code: 'custom',
          path: ['priority', i],
          message: `unknown identifier type "${p}"; one of ${Object.keys(types).join(', ')}`,
        });
    }
    const priority = [...new Set([...c.priority.filter((p) => own(types, p)), ...Object.keys(types)])];
    return { ...c, types, priority };
  });

export type IdentityConfig = z.output<typeof IdentityConfigSchema>;

/** The whole configuration. New sections go next to `identity`, each with its own defaults. */
export const ScherpConfigSchema = z
  .object({
    identity: IdentityConfigSchema.prefault({}),
    /** Computed traits (`core/computed.ts`): name → definition, over the shipped defaults; `false` removes one. */
    computed: ComputedConfigSchema,
    /** Traits (`core/profile.ts`): source precedence per trait. */
    traits: TraitsConfigSchema.prefault({}),
    /** What `POST /v1/context` (browser, public write key) may return (`core/context.ts`). */
    context: ContextConfigSchema.prefault({}),
    /** Data subject rights. */
    privacy: z
      .object({
        /** Drop later events carrying an identifier of an erased person (`DELETE /v1/profiles/{type}:{value}`). */
        suppressErased: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** What a user writes (every field optional). */
export type ScherpConfigInput = z.input<typeof ScherpConfigSchema>;
/** The configuration with every default filled in. */
export type ScherpConfig = z.output<typeof ScherpConfigSchema>;

/** A configuration problem, naming the field: `identity.types.crm.from: is required …`. */
export class ConfigError extends Error {}

/** Parses a configuration object (`undefined`: all defaults); throws {@link ConfigError}. */
export function parseConfig(input: unknown): ScherpConfig {
  const r = ScherpConfigSchema.safeParse(input ?? {});
  if (r.success) return r.data;
  const lines = zodIssues(r.error).map((i) => `${i.path}: ${i.message}`);
  throw new ConfigError(`invalid Scherp configuration:\n- ${lines.join('\n- ')}`);
}

/** Parses configuration JSON text (`undefined` or empty: all defaults). */
export function loadConfig(json: string | undefined): ScherpConfig {
  if (json === undefined || json.trim() === '') return parseConfig(undefined);
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new ConfigError(`invalid Scherp configuration: not JSON (${(err as Error).message})`);
  }
  return parseConfig(raw);
}

/** The file `npm start` and `cdk deploy` read the configuration from, in the working directory. */
export const CONFIG_FILE = 'scherp.config.json';

/** The configuration with every default. */
export const DEFAULT_CONFIG: ScherpConfig = parseConfig(undefined);
