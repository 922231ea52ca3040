/**
 * The rule and audience formats, defined once: validation (with the path of every fault),
 * types and docs. See README "Rules" for the reference.
 */
import * as z from 'zod';
import { EVENT_TYPES } from '../events';
import { PATH_PATTERN } from './path';

export const OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'contains', 'exists', 'startsWith'] as const;
export type Operator = (typeof OPERATORS)[number];

/**
 * A dotted path into the evaluation context: `event.properties.revenue`, `profile.traits.plan`,
 * `event.properties.products[].category`, `match.previous.properties.products[category=x]`.
 */
export const PathSchema = z.string().max(300).regex(PATH_PATTERN, 'must be a dotted path starting with event., profile. or match.');

/** A duration: a whole number of seconds, minutes, hours or days (`30s`, `15m`, `1h`, `7d`). */
export const DurationSchema = z.string().regex(/^[1-9][0-9]{0,5}(s|m|h|d)$/, 'must be a duration like 30s, 15m, 1h or 7d');

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function durationMs(d: string): number {
  return Number(d.slice(0, -1)) * UNIT_MS[d.slice(-1) as keyof typeof UNIT_MS];
}

export interface Comparison {
  readonly path: string;
  readonly op: Operator;
  readonly value?: unknown;
}

/** "did event X [where …] at least / at most N times within the last D". */
export interface HistoryCondition {
  readonly history: {
    readonly event: string;
    readonly type?: (typeof EVENT_TYPES)[number];
    readonly where?: Condition;
    readonly within: string;
    readonly atLeast?: number;
    readonly atMost?: number;
    /** Binds the newest matching event as `match.<as>` for later conditions and actions. */
    readonly as?: string;
  };
}

export type Condition =
  | { readonly all: Condition[] }
  | { readonly any: Condition[] }
  | { readonly not: Condition }
  | Comparison
  | HistoryCondition;

/** What a condition may be, for the error when an input has none of these shapes. */
const CONDITION_SHAPES =
  'must be a condition: {"all": [...]}, {"any": [...]}, {"not": {...}}, {"history": {...}} or {"path", "op", "value"}';

const Count = z.number().int().min(0).max(100_000);

/** `meta.id`: the OpenAPI document (`core/openapi.ts`) names this recursive schema, so its `$ref` can point to itself. */
export const ConditionSchema: z.ZodType<Condition> = z
  .lazy(() =>
    z.union(
      [
        z.strictObject({ all: z.array(ConditionSchema).min(1) }),
        z.strictObject({ any: z.array(ConditionSchema).min(1) }),
        z.strictObject({ not: ConditionSchema }),
        z.strictObject({
          history: z
            .strictObject({
              event: z.string().min(1).max(200),
              type: z.enum(EVENT_TYPES).optional(),
              where: ConditionSchema.optional(),
              within: DurationSchema,
              atLeast: Count.optional(),
              atMost: Count.optional(),
              as: z
                .string()
                .regex(/^[A-Za-z][A-Za-z0-9_]{0,39}$/, 'must be a name of letters, digits and _')
                .optional(),
            })
            .refine((h) => h.atLeast !== undefined || h.atMost !== undefined, {
              message: 'give atLeast, atMost or both',
              path: ['atLeast'],
            }),
        }),
        z
          .strictObject({ path: PathSchema, op: z.enum(OPERATORS), value: z.unknown().optional() })
          .refine((c) => c.op === 'exists' || c.value !== undefined, { message: 'value is required for this operator', path: ['value'] })
          .refine((c) => c.op !== 'in' || Array.isArray(c.value), { message: 'value must be an array for in', path: ['value'] }),
      ],
      { error: CONDITION_SHAPES },
    ),
  )
  .meta({ id: 'Condition' });

/** A value for an action: a path into the context, or `{ "value": literal }`. */
export const ValueSchema = z.union([PathSchema, z.strictObject({ value: z.unknown() })], {
  error: 'must be a path (event.…, profile.… or match.…) or {"value": literal}',
});
export type ValueRef = z.infer<typeof ValueSchema>;

/** Options every action takes. */
const actionOptions = {
  /** Names this action in explanations and rule state. @default `<type>-<index>` */
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-_]{0,99}$/, 'must be 1-100 lowercase letters, digits, - or _')
    .optional(),
  /** At most once per profile within this time. */
  cooldown: DurationSchema.optional(),
  /** At most this many times per profile, ever. */
  maxFires: z.number().int().min(1).max(1_000_000).optional(),
  /** Skipped (and counted) unless the profile has granted this consent purpose. */
  consent: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,39}$/, 'must be a lowercase purpose name')
    .optional(),
  /** Checked again after this time; fires only if the rule's condition still holds then. */
  delay: DurationSchema.optional(),
};

/** Who receives an emitted action: decides which identity fields ride along. */
export const TARGETS = ['email', 'ads', 'webhook'] as const;

export const EmitActionSchema = z.strictObject({
  type: z.literal('emit'),
  /** `detail.action` of the `Action Triggered` event. */
  action: z.string().min(1).max(100),
  /** `email`: adds the profile's email; `ads`: SHA-256 of normalised email and phone. */
  target: z.enum(TARGETS).optional(),
  data: z.record(z.string().max(100), ValueSchema).optional(),
  ...actionOptions,
});

export const TraitActionSchema = z
  .strictObject({
    type: z.literal('trait'),
    trait: z.string().regex(/^[A-Za-z0-9_$ -]{1,100}$/, 'must be a trait name'),
    set: ValueSchema.optional(),
    increment: z.number().finite().optional(),
    ...actionOptions,
  })
  .refine((a) => (a.set === undefined) !== (a.increment === undefined), { message: 'give exactly one of set or increment', path: ['set'] });

export const AudienceActionSchema = z.strictObject({
  type: z.literal('audience'),
  audience: z.string().regex(/^[a-z0-9][a-z0-9-_]{0,99}$/, 'must be an audience id'),
  op: z.enum(['join', 'leave']),
  ...actionOptions,
});

export const RecommendActionSchema = z.strictObject({
  type: z.literal('recommend'),
  /** Where the website reads it: one recommendation per slot, newest wins. */
  slot: z.string().regex(/^[a-z0-9][a-z0-9-_]{0,59}$/, 'must be a slot name'),
  data: z.record(z.string().max(100), ValueSchema),
  /** How long it stays shown. */
  expiresIn: DurationSchema,
  ...actionOptions,
});

export const ActionSchema = z.union([EmitActionSchema, TraitActionSchema, AudienceActionSchema, RecommendActionSchema]);
export type Action = z.infer<typeof ActionSchema>;
export type EmitAction = z.infer<typeof EmitActionSchema>;

/** A rule or audience id (also the `{id}` of `/v1/rules/{id}`). */
export const RuleIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-_]{0,99}$/, 'must be 1-100 lowercase letters, digits, - or _');
const Id = RuleIdSchema;

export const RuleSchema = z.strictObject({
  kind: z.literal('rule').optional(),
  id: Id,
  name: z.string().min(1).max(200),
  description: z.string().max(2000).optional(),
  enabled: z.boolean().default(true),
  trigger: z.strictObject({
    types: z.array(z.enum(EVENT_TYPES)).min(1).optional(),
    events: z.array(z.string().min(1)).min(1).optional(),
  }),
  condition: ConditionSchema.optional(),
  actions: z.array(ActionSchema).min(1).max(10),
});
export type Rule = z.infer<typeof RuleSchema>;

/** A named condition over the profile; membership is kept current as events arrive. */
export const AudienceSchema = z.strictObject({
  kind: z.literal('audience'),
  id: Id,
  name: z.string().min(1).max(200),
  description: z.string().max(2000).optional(),
  enabled: z.boolean().default(true),
  condition: ConditionSchema,
});
export type Audience = z.infer<typeof AudienceSchema>;

export type Definition = Rule | Audience;

/** The body of `POST /v1/rules/{id}/test`: an inline rule (else the stored one), an event, a profile identifier. */
export const DryRunBodySchema = z.object({
  rule: z.unknown().optional(),
  event: z.record(z.string(), z.unknown()).optional(),
  /** `type:value` of a stored profile. */
  profile: z.string().min(3).max(300).optional(),
});

/** The body of `POST /v1/rules/{id}/backtest` (`from` and `to` are checked as ISO-8601 times by the use case). */
export const BacktestBodySchema = z.object({
  rule: z.unknown().optional(),
  from: z.unknown(),
  to: z.unknown(),
  segments: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .describe('Parallel-scan segments of the backtest job (default 8). Every profile is looked at: there is no cap.'),
});
