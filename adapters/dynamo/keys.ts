/**
 * The single-table layout: every key Scherp writes is built here and nowhere else.
 *
 * | item            | pk                    | sk                     |
 * |-----------------|-----------------------|------------------------|
 * | identity        | `ID#<type>#<value>`   | `ID`                   |
 * | profile root    | `P#<profileId>`       | `PROFILE`              |
 * | computed traits | `P#<profileId>`       | `PROFILE#C`            |
 * | timeline event  | `P#<profileId>`       | `EV#<isoTime>#<msgId>` |
 * | merge record    | `P#<survivorId>`      | `MERGE#<isoTime>#<msgId>` (event time and id) |
 * | rule            | `RULES`               | `<ruleId>`             |
 *
 * Values are used verbatim after the fixed prefix, so a `#` or `:` inside an identifier
 * cannot collide with another item: the type names never contain `#`, and nothing parses
 * a key back except by its fixed prefix.
 */
export const keys = {
  identity: (type: string, value: string) => ({ pk: `ID#${type}#${value}`, sk: 'ID' }),
  profile: (profileId: string) => ({ pk: `P#${profileId}`, sk: 'PROFILE' }),
  computed: (profileId: string) => ({ pk: `P#${profileId}`, sk: 'PROFILE#C' }),
  event: (profileId: string, isoTime: string, messageId: string) => ({
    pk: `P#${profileId}`,
    sk: `EV#${isoTime}#${messageId}`,
  }),
  /** One merge (or refused link) an event caused, kept on the survivor; the stream announces it. */
  mergeRecord: (profileId: string, eventIsoTime: string, messageId: string) => ({
    pk: `P#${profileId}`,
    sk: `MERGE#${eventIsoTime}#${messageId}`,
  }),
  rule: (ruleId: string) => ({ pk: 'RULES', sk: ruleId }),
} as const;

export const PROFILE_PK_PREFIX = 'P#';
export const PROFILE_SK_PREFIX = 'PROFILE';
export const EVENT_SK_PREFIX = 'EV#';
export const MERGE_SK_PREFIX = 'MERGE#';
export const RULES_PK = 'RULES';

/** Attribute holding the epoch-seconds expiry that DynamoDB TTL reads. */
export const TTL_ATTRIBUTE = 'ttl';

/** The stored form of a rule: the JSON document as a string, so any rule shape round-trips. */
export function ruleItem(rule: { id: string }): { pk: string; sk: string; doc: string } {
  return { ...keys.rule(rule.id), doc: JSON.stringify(rule) };
}
