/**
 * The single-table layout: every key Scherp writes is built here and nowhere else.
 *
 * | item            | pk                    | sk                     |
 * |-----------------|-----------------------|------------------------|
 * | identity        | `ID#<type>#<value>`   | `ID`                   |
 * | profile root    | `P#<profileId>`       | `PROFILE`              |
 * | computed traits | `P#<profileId>`       | `PROFILE#C`            |
 * | membership      | `P#<profileId>`       | `PROFILE#AUD#<audienceId>` (`at`: entered, `mpk`/`msk`: listed in the `members` index; without them: left, `ttl` a day) |
 * | consent         | `P#<profileId>`       | `PROFILE#CONSENT`      |
 * | recommendations | `P#<profileId>`       | `PROFILE#REC`          |
 * | rule state      | `P#<profileId>`       | `RS#<ruleId>`          |
 * | timeline event  | `P#<profileId>`       | `EV#<isoTime>#<msgId>` |
 * | merge record    | `P#<survivorId>`      | `MERGE#<isoTime>#<msgId>` (event time and id) |
 * | split record    | `P#<keptId>`          | `MERGE#~split#<splitId>#<isoTime>` |
 * | split announcement | `P#<keptId>`       | `MERGE#~splitdone#<splitId>#<isoTime>` |
 * | rule            | `RULES`               | `<ruleId>`             |
 * | source          | `SOURCES`             | `S#<sourceId>`         |
 * | source key      | `SOURCES`             | `S#<sourceId>#K#<keyId>` |
 * | source name     | `SOURCES`             | `N#<trimmed lower-cased name>` |
 * | write-key lookup| `WKEY#<sha256 hex>`   | `WKEY`                 |
 * | rejected event  | `REJ#<yyyy-mm-dd>`    | `<receivedAt>#<requestId>#<index>` |
 * | rejected-event index | `REJ#IX#<sha256 hex of a term>` | the record's sk |
 * | message marker  | `MSG#<sourceId>#<messageId>` | `MSG`           |
 * | erased identifier | `SUP#<sha256 hex of type:value>` | `SUP`       |
 * | foreign identifier | `FX#<sha256 hex of type:value>` | `<profileId>#<event sk>` (an event of that profile naming an identifier that did not link there) |
 * | evaluation failure | pk of the failed item | `EVALFAIL#<stream sequence number>` |
 * | debugger session | `DBG#SESSION`        | `DBG#SESSION`          |
 * | debugger entry  | `DBG#<yyyy-mm-ddThh>` | `<receivedAt>#<requestId>#<index>` (`core/debug.ts`) |
 * | hourly counters | `STATS#<yyyy-mm-dd>`  | `H#<hh>` (`core/stats.ts`) |
 * | audience count  | `AUD#<audienceId>`    | `C#<shard>`            |
 * | audience hour   | `AUD#<audienceId>`    | `H#<yyyy-mm-ddThh>#<shard>` (entered/exited that hour) |
 * | job             | `JOB#<jobId>`         | `JOB` (`core/jobs.ts`) |
 * | job segment     | `JOB#<jobId>`         | `SEG#<segment>`        |
 * | job lock        | `JOBLOCK#<subject>`   | `JOBLOCK` (one running job per audience) |
 * | job listing     | `JOBS`                | `<createdAt>#<jobId>`  |
 * | membership due  | `DUE#<yyyy-mm-ddThh:mm>` | `<audienceId>#<profileId>` (re-checked then: time-based exits) |
 * | sweep watermark | `DUE#SWEEP`           | `DUE#SWEEP`            |
 * | computed-trait digests | `COMPUTED#DEFS` | `DEFS` (the definitions the profiles reflect, `core/computed-recompute.ts`) |
 *
 * The one secondary index, `members` (sparse: only membership items carry its keys), lists an
 * audience's members: partition `mpk` = `AUD#<audienceId>#M#<shard>`, sort `msk` = the profile id.
 *
 * Values are used verbatim after the fixed prefix, so a `#` or `:` inside an identifier
 * cannot collide with another item: the type names never contain `#`, and nothing parses
 * a key back except by its fixed prefix.
 */
/** Sort keys of the profile parts (every `PROFILE#…` item but the root). */
export const PROFILE_PART_SK_PREFIX = 'PROFILE#';
export const PART_SK = {
  computed: 'PROFILE#C',
  consent: 'PROFILE#CONSENT',
  recommendations: 'PROFILE#REC',
} as const;

export const keys = {
  identity: (type: string, value: string) => ({ pk: `ID#${type}#${value}`, sk: 'ID' }),
  profile: (profileId: string) => ({ pk: `P#${profileId}`, sk: 'PROFILE' }),
  computed: (profileId: string) => ({ pk: `P#${profileId}`, sk: PART_SK.computed }),
  event: (profileId: string, isoTime: string, messageId: string) => ({
    pk: `P#${profileId}`,
    sk: `EV#${isoTime}#${messageId}`,
  }),
  /** The profile's membership of one audience (entered at `at`), listed in the `members` index. */
  membership: (profileId: string, audienceId: string) => ({ pk: `P#${profileId}`, sk: `${MEMBERSHIP_SK_PREFIX}${audienceId}` }),
  consent: (profileId: string) => ({ pk: `P#${profileId}`, sk: PART_SK.consent }),
  recommendations: (profileId: string) => ({ pk: `P#${profileId}`, sk: PART_SK.recommendations }),
  ruleState: (profileId: string, ruleId: string) => ({ pk: `P#${profileId}`, sk: `RS#${ruleId}` }),
  /** The sort-key range of a profile's timeline from `isoTime` on. */
  eventsSince: (profileId: string, isoTime: string) => ({ pk: `P#${profileId}`, from: `EV#${isoTime}`, to: 'EV#\uffff' }),
  /** One merge (or refused link) an event caused, kept on the survivor; the stream announces it. */
  mergeRecord: (profileId: string, eventIsoTime: string, messageId: string) => ({
    pk: `P#${profileId}`,
    sk: `MERGE#${eventIsoTime}#${messageId}`,
  }),
  /**
   * A split made on a profile (`app/split.ts`) and, once it has settled, its announcement (the
   * outbox of `Profile Split`): under `MERGE#~` so the stream's filter and the graph query
   * (`MERGE#`) carry them, after every merge record (`~` sorts after digits).
   */
  splitRecord: (profileId: string, splitId: string, isoTime: string) => ({
    pk: `P#${profileId}`,
    sk: `${SPLIT_SK_PREFIX}${splitId}#${isoTime}`,
  }),
  splitDone: (profileId: string, splitId: string, isoTime: string) => ({
    pk: `P#${profileId}`,
    sk: `${SPLIT_DONE_SK_PREFIX}${splitId}#${isoTime}`,
  }),
  rule: (ruleId: string) => ({ pk: 'RULES', sk: ruleId }),
  // Source ids are generated (`src_<hex>` or `default`) and never contain `#`.
  source: (sourceId: string) => ({ pk: SOURCES_PK, sk: `S#${sourceId}` }),
  sourceKey: (sourceId: string, keyId: string) => ({ pk: SOURCES_PK, sk: `S#${sourceId}#K#${keyId}` }),
  /** Claims a source name (`sourceNameKey`) for one source: names are unique. */
  sourceName: (nameKey: string) => ({ pk: SOURCES_PK, sk: `N#${nameKey}` }),
  writeKey: (digestHex: string) => ({ pk: `WKEY#${digestHex}`, sk: 'WKEY' }),
  rejected: (day: string, receivedAt: string, requestId: string, index: number) => ({
    pk: `${REJECTED_PK_PREFIX}${day}`,
    sk: `${receivedAt}#${requestId}#${String(index).padStart(5, '0')}`,
  }),
  rejectedDay: (day: string) => `${REJECTED_PK_PREFIX}${day}`,
  /** One index entry of a kept rejected event: a digest of a term it mentions (`core/mention-terms.ts`) → the record. */
  rejectedIndex: (termDigestHex: string, recordSk: string) => ({ pk: `${REJECTED_PK_PREFIX}IX#${termDigestHex}`, sk: recordSk }),
  message: (sourceId: string, messageId: string) => ({ pk: `MSG#${sourceId}#${messageId}`, sk: 'MSG' }),
  /** An event of `profileId` that names an identifier (by digest) which did not link there: erasure redacts it. */
  foreignMention: (digestHex: string, profileId: string, eventSk: string) => ({
    pk: `${FOREIGN_PK_PREFIX}${digestHex}`,
    sk: `${profileId}#${eventSk}`,
  }),
  foreignMentions: (digestHex: string) => `${FOREIGN_PK_PREFIX}${digestHex}`,
  /** Suppression marker of an erased identifier: only a digest, so the list names nobody. */
  suppressed: (digestHex: string) => ({ pk: `SUP#${digestHex}`, sk: 'SUP' }),
  /**
   * A stream record evaluate gave up on, kept next to the item it is about (so erasing the
   * profile erases it too); the item holds the record's content.
   */
  evaluationFailure: (pk: string, sequenceNumber: string) => ({ pk, sk: `${EVAL_FAILURE_SK_PREFIX}${sequenceNumber}` }),
  /** The live debugger's session marker: while it exists and has not expired, collect keeps debug entries. */
  debugSession: () => ({ pk: DEBUG_SESSION_PK, sk: DEBUG_SESSION_PK }),
  /** The hour partition of debug entries received in that hour (`isoTime` of the entry). */
  debugHour: (isoTime: string) => `${DEBUG_PK_PREFIX}${isoTime.slice(0, 13)}`,
  /** The Overview's counters of one hour (`yyyy-mm-ddThh`). */
  statsHour: (hour: string) => ({ pk: `${STATS_PK_PREFIX}${hour.slice(0, 10)}`, sk: `H#${hour.slice(11, 13)}` }),
  /** The `members` index keys of a membership item: the audience's shard, then the profile. */
  memberIndex: (audienceId: string, shard: number, profileId: string) => ({
    [MEMBERS_INDEX_PK]: `${AUDIENCE_PK_PREFIX}${audienceId}#M#${shard}`,
    [MEMBERS_INDEX_SK]: profileId,
  }),
  audienceMembers: (audienceId: string, shard: number) => `${AUDIENCE_PK_PREFIX}${audienceId}#M#${shard}`,
  /** The member count of one shard of an audience (`n`). */
  audienceCount: (audienceId: string, shard: number) => ({
    pk: `${AUDIENCE_PK_PREFIX}${audienceId}`,
    sk: `${AUDIENCE_COUNT_SK_PREFIX}${shard}`,
  }),
  /** Entries (`e`) and exits (`x`) of one shard of an audience in one hour (`yyyy-mm-ddThh`), kept a few days. */
  audienceHour: (audienceId: string, hour: string, shard: number) => ({
    pk: `${AUDIENCE_PK_PREFIX}${audienceId}`,
    sk: `H#${hour}#${shard}`,
  }),
  audienceCounters: (audienceId: string) => `${AUDIENCE_PK_PREFIX}${audienceId}`,
  job: (jobId: string) => ({ pk: `${JOB_PK_PREFIX}${jobId}`, sk: 'JOB' }),
  jobSegment: (jobId: string, segment: number) => ({ pk: `${JOB_PK_PREFIX}${jobId}`, sk: `SEG#${String(segment).padStart(4, '0')}` }),
  jobLock: (subject: string) => ({ pk: `${JOB_LOCK_PK_PREFIX}${subject}`, sk: 'JOBLOCK' }),
  /** A membership to re-check at its due time (`core/expiry.ts`), in the partition of its minute. */
  due: (minute: string, audienceId: string, profileId: string) => ({ pk: `${DUE_PK_PREFIX}${minute}`, sk: `${audienceId}#${profileId}` }),
  dueMinute: (minute: string) => `${DUE_PK_PREFIX}${minute}`,
  sweepMark: () => ({ pk: `${DUE_PK_PREFIX}SWEEP`, sk: `${DUE_PK_PREFIX}SWEEP` }),
  jobListing: (createdAt: string, jobId: string) => ({ pk: JOBS_PK, sk: `${createdAt}#${jobId}` }),
  computedDigests: () => ({ pk: 'COMPUTED#DEFS', sk: 'DEFS' }),
} as const;

export const STATS_PK_PREFIX = 'STATS#';
export const FOREIGN_PK_PREFIX = 'FX#';
export const AUDIENCE_PK_PREFIX = 'AUD#';
/** Count items' sort keys (`N#` held the counts of the earlier layout, before membership items). */
export const AUDIENCE_COUNT_SK_PREFIX = 'C#';
/** Sort keys of membership items (`PROFILE#AUD` alone was the earlier layout's part: not read). */
export const MEMBERSHIP_SK_PREFIX = 'PROFILE#AUD#';
/** The sparse index that lists an audience's members, and its key attributes. */
export const MEMBERS_INDEX = 'members';
export const MEMBERS_INDEX_PK = 'mpk';
export const MEMBERS_INDEX_SK = 'msk';
/** What the index holds of a membership besides the keys: when the profile entered. */
export const MEMBERS_INDEX_ATTRIBUTES = ['at'] as const;
export const JOB_PK_PREFIX = 'JOB#';
export const JOB_LOCK_PK_PREFIX = 'JOBLOCK#';
export const JOBS_PK = 'JOBS';
export const DUE_PK_PREFIX = 'DUE#';
export const DEBUG_PK_PREFIX = 'DBG#';
export const DEBUG_SESSION_PK = `${DEBUG_PK_PREFIX}SESSION`;

export const SOURCES_PK = 'SOURCES';
export const SOURCE_SK_PREFIX = 'S#';
export const SOURCE_KEY_SK_INFIX = '#K#';
export const REJECTED_PK_PREFIX = 'REJ#';

export const PROFILE_PK_PREFIX = 'P#';
export const PROFILE_SK_PREFIX = 'PROFILE';
export const EVENT_SK_PREFIX = 'EV#';
export const MERGE_SK_PREFIX = 'MERGE#';
export const SPLIT_SK_PREFIX = 'MERGE#~split#';
export const SPLIT_DONE_SK_PREFIX = 'MERGE#~splitdone#';
export const EVAL_FAILURE_SK_PREFIX = 'EVALFAIL#';
export const RULES_PK = 'RULES';

/** Attribute holding the epoch-seconds expiry that DynamoDB TTL reads. */
export const TTL_ATTRIBUTE = 'ttl';

/** The stored form of a rule: the JSON document as a string, so any rule shape round-trips. */
export function ruleItem(rule: { id: string }): { pk: string; sk: string; doc: string } {
  return { ...keys.rule(rule.id), doc: JSON.stringify(rule) };
}
