/**
 * The rule format, defined once: validation (with the path of every fault), types and docs.
 */
import { z } from 'zod';
import { EVENT_TYPES } from '../events';

export const OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'contains', 'exists', 'startsWith'] as const;
export type Operator = (typeof OPERATORS)[number];

/** A dotted path into the evaluation context: `event.properties.revenue`, `profile.traits.plan`. */
const Path = z
  .string()
  .regex(/^(event|profile)(\.[A-Za-z0-9_$ -]+)*$/, 'must be a dotted path starting with event. or profile.');

export interface Comparison {
  readonly path: string;
  readonly op: Operator;
  readonly value?: unknown;
}
export type Condition = { readonly all: Condition[] } | { readonly any: Condition[] } | { readonly not: Condition } | Comparison;

export const ConditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ all: z.array(ConditionSchema).min(1) }),
    z.strictObject({ any: z.array(ConditionSchema).min(1) }),
    z.strictObject({ not: ConditionSchema }),
    z
      .strictObject({ path: Path, op: z.enum(OPERATORS), value: z.unknown().optional() })
      .refine((c) => c.op === 'exists' || c.value !== undefined, { message: 'value is required for this operator', path: ['value'] })
      .refine((c) => c.op !== 'in' || Array.isArray(c.value), { message: 'value must be an array for in', path: ['value'] }),
  ]),
);

/** A detail field: a path into the context, or `{ "value": literal }`. */
const DetailField = z.union([Path, z.strictObject({ value: z.unknown() })]);

export const EmitActionSchema = z.strictObject({
  type: z.literal('emit'),
  /** Names this action in the bus event; defaults to the detail-type. */
  id: z.string().min(1).max(100).optional(),
  detailType: z.string().min(1).max(128),
  detail: z.record(z.string(), DetailField).optional(),
});

export const ActionSchema = z.discriminatedUnion('type', [EmitActionSchema]);
export type Action = z.infer<typeof ActionSchema>;

export const RuleSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-_]{0,99}$/, 'must be 1-100 lowercase letters, digits, - or _'),
  name: z.string().min(1).max(200),
  enabled: z.boolean().default(true),
  trigger: z.strictObject({
    types: z.array(z.enum(EVENT_TYPES)).min(1).optional(),
    events: z.array(z.string().min(1)).min(1).optional(),
  }),
  condition: ConditionSchema.optional(),
  actions: z.array(ActionSchema).min(1),
});

export type Rule = z.infer<typeof RuleSchema>;
