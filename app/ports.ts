/**
 * The ports the use cases talk to. DynamoDB, SQS, EventBridge and Secrets Manager implement
 * them in adapters/; the local runtime and the tests swap in their own.
 */
import { dict } from '../core/dict';
import type { FieldIssue, Party, ScherpEvent, Trust } from '../core/events';
import type { ImportJob } from '../core/import-job';
import type { Source, SourceChange, SourceKey } from '../core/sources';
import type { RateLimit } from '../core/rate-limit';
import type { Identifier } from '../core/identity';
import type { LinkEvidence, MergeRecord, Profile } from '../core/profile';
import type { Consent } from '../core/consent';
import type { ComputedState } from '../core/computed';
import type { StorageSnapshot } from '../core/invariants';
import type { IdentityItemView, SplitRecord } from '../core/identity-graph';
import type { PayloadMatcher } from '../core/mentions';
import type { DebugEntry } from '../core/debug';
import type { HourCounts, HourTally } from '../core/stats';
import type { QueueHealth } from '../core/health';
import type { AudienceCounters } from '../core/audiences';
import type { Job, JobStatus, SegmentState } from '../core/jobs';

/** Accepted events on their way to `stitch`. */
export interface EventQueue {
  /** Queues every event or throws; never queues part silently. */
  send(events: readonly ScherpEvent[]): Promise<void>;
}

/** The version of a stored file: a replaced file has another etag. */
export interface ObjectInfo {
  readonly etag: string;
  /** ISO time the file was written. */
  readonly lastModified: string;
}

/** Files to import (the import bucket in the cloud, a folder locally). */
export interface ObjectStore {
  /** The file's bytes from `fromByte` on, or undefined when it does not exist (any more). */
  read(key: string, fromByte: number): Promise<{ readonly info: ObjectInfo; readonly body: AsyncIterable<Uint8Array> } | undefined>;
  /** Writes (replaces) a JSON document. */
  putJson(key: string, value: unknown): Promise<void>;
}

/** Where a file import that ran out of time puts the job that goes on with it. */
export interface ImportJobQueue {
  send(job: ImportJob): Promise<void>;
}

/** One event for the bus; the source is always `scherp`. */
export interface BusEntry {
  readonly detailType: string;
  readonly detail: Record<string, unknown>;
}

export interface Bus {
  /** Delivers every entry at least once or throws. */
  publish(entries: readonly BusEntry[]): Promise<void>;
}

export type KeyKind = 'write' | 'read' | 'admin';

export interface Principal {
  readonly kind: KeyKind;
  readonly sourceId: string;
  /** The party of the source (bootstrap keys: `first`). */
  readonly party: Party;
  /** The name of the source (absent for keys made before names were kept on the key lookup). */
  readonly sourceName?: string;
  /** `trusted` for a trusted source's key; absent: public (bootstrap keys, `core/trust.ts`). */
  readonly trust?: 'trusted';
  /** The source's own request limit, if it has one (`core/rate-limit.ts`). */
  readonly rateLimit?: RateLimit;
}

export interface KeyStore {
  /** The principal a key belongs to, if it is a valid key of that kind. */
  authenticate(kind: KeyKind, key: string): Promise<Principal | undefined>;
}

/** What a write key's digest resolves to. */
export interface KeyRecord {
  readonly keyId: string;
  readonly sourceId: string;
  readonly party: Party;
  readonly sourceName?: string;
  /** The source's trust level (absent on keys stored before trust levels: public). */
  readonly trust?: Trust;
  readonly rateLimit?: RateLimit;
  readonly status: SourceKey['status'];
}

/** A source with its keys (ids and states only). */
export interface SourceWithKeys {
  readonly source: Source;
  readonly keys: readonly SourceKey[];
}

/** Sources and their write keys; keys are handed over and stored as digests only. */
export interface SourceStore {
  /**
   * Stores a new source with its first key, all or nothing; false (nothing stored) when another
   * source holds the name (compared trimmed and case-insensitively, see `sourceNameKey`).
   */
  createSource(source: Source, key: SourceKey, digest: string): Promise<boolean>;
  /**
   * Deletes a source: every key of it is revoked, its name is freed, and it is no longer listed
   * or found (its id stays reserved: stored events keep naming it). False when there is none.
   */
  deleteSource(sourceId: string, at: string): Promise<boolean>;
  listSources(): Promise<SourceWithKeys[]>;
  getSource(sourceId: string): Promise<SourceWithKeys | undefined>;
  /** Adds a key to an existing source; false when the source does not exist. */
  addKey(source: Source, key: SourceKey, digest: string): Promise<boolean>;
  /**
   * Changes a source's trust level and/or rate limit on the source and on every key lookup
   * item of it, all or nothing; undefined when the source does not exist.
   */
  updateSource(sourceId: string, change: SourceChange): Promise<Source | undefined>;
  /** Marks a key revoked; false when the source has no such key. */
  revokeKey(sourceId: string, keyId: string, at: string): Promise<boolean>;
  /** The key with this digest, if any (one read; callers cache). */
  findKey(digest: string): Promise<KeyRecord | undefined>;
}

/** An event (or a whole request) collect refused, kept for operators. */
export interface RejectedRecord {
  readonly sourceId: string;
  readonly route: string;
  /** Index in the batch (0 for single calls). */
  readonly index: number;
  readonly issues: readonly FieldIssue[];
  /** The limit that was exceeded, if that was the reason. */
  readonly limit?: string;
  /** The payload as JSON, cut to a bounded size. */
  readonly payload: string;
  readonly receivedAt: string;
  /** Unique per request, so records of one request group together. */
  readonly requestId: string;
}

export interface RejectedStore {
  /** Keeps every record or throws. */
  save(records: readonly RejectedRecord[]): Promise<void>;
  /** Newest first. */
  list(opts: { readonly limit: number; readonly sourceId?: string }): Promise<RejectedRecord[]>;
  /**
   * Every stored record (retained, or expired but not yet removed) whose payload, or issues as
   * JSON text, `matches` (for export: the records naming a person), newest first. Reads only the
   * records indexed under one of `matches.terms` (`core/mention-terms.ts`), never all of them.
   */
  listMatching(matches: PayloadMatcher): Promise<RejectedRecord[]>;
  /**
   * Deletes every stored record (retained, or expired but not yet removed) whose payload, or
   * issues as JSON text, `matches` (for erasure), found as {@link listMatching} finds them;
   * returns how many. Idempotent: a repeat deletes what is left.
   */
  eraseMatching(matches: PayloadMatcher): Promise<number>;
}

/** First-seen markers of (source, message id) pairs, kept for the dedupe window. */
export interface MessageLog {
  /**
   * Records the message as seen with the timestamp its first delivery used. Returns undefined
   * when it is new, or the timestamp recorded by the first delivery when it was seen before.
   */
  claim(sourceId: string, messageId: string, timestamp: string): Promise<string | undefined>;
}

/** A profile as stored, with the version used for optimistic concurrency. */
export interface StoredProfile {
  readonly profile: Profile;
  readonly version: number;
}

/** Reads are strongly consistent unless a caller that re-checks with conditional writes opts out. */
export interface ReadOptions {
  /** @default true */
  readonly consistent?: boolean;
}

/** What one identity read found: owners by `identifierKey`, and which identifiers were erased. */
export interface IdentityLookup {
  readonly owners: Map<string, string>;
  /** `identifierKey`s carrying a suppression marker (only looked up when asked). */
  readonly suppressed: readonly string[];
  /** `identifierKey`s whose identity item an admin blocked globally (`app/split.ts`). */
  readonly blocked?: readonly string[];
}

export interface ProfileStore {
  /** The profile each identifier points to, by `identifierKey`. */
  getIdentityOwners(ids: readonly Identifier[], opts?: ReadOptions): Promise<Map<string, string>>;
  /** {@link getIdentityOwners}, with the suppression markers of the same identifiers in the same batch read when `suppression` is set. */
  lookupIdentities(ids: readonly Identifier[], opts?: ReadOptions & { readonly suppression?: boolean }): Promise<IdentityLookup>;
  /** Points an identifier at a profile unless it already points somewhere; returns the owner. `by`: the linking event (explain). */
  claimIdentity(id: Identifier, profileId: string, at: string, by?: LinkEvidence): Promise<string>;
  getProfiles(profileIds: readonly string[], opts?: ReadOptions): Promise<Map<string, StoredProfile>>;
  /**
   * Writes a profile root if its stored version is still `expectedVersion` (0: not yet stored)
   * and it has not been merged away; returns false on a conflict.
   */
  saveProfile(profile: Profile, expectedVersion: number): Promise<boolean>;
  /**
   * A new profile root and the identity item of its first identifier, all or nothing (one
   * transaction), so a root is never stored without an identity item leading to it. False when
   * the root exists already or the identifier points somewhere already (nothing is written then).
   */
  createProfile(profile: Profile, first: Identifier, at: string, by?: LinkEvidence): Promise<boolean>;
  /**
   * One merge, all or nothing: the survivor (expected at `survivorVersion`), every loser turned
   * into a pointer (`mergedInto` set; each expected at its version and not merged yet) and the
   * merge record. False on any conflict (nothing is written then).
   */
  mergeProfiles(survivor: Profile, survivorVersion: number, losers: readonly StoredProfile[], record: MergeRecord): Promise<boolean>;
  /** Stores a merge record unless one for the same event is already there; false if it was. */
  putMergeRecord(record: MergeRecord): Promise<boolean>;
  /**
   * Indexes an event stored (or about to be) on `profileId`'s timeline under identifiers of it that
   * did not link there (refs, `identifierRef`): erasure of the person they belong to finds the
   * event by them (`redactNamed`). Idempotent; written before the event, expires with it.
   */
  indexForeignIdentifiers(refs: readonly string[], profileId: string, event: ScherpEvent): Promise<void>;
  /** Stores an event on a profile's timeline; false if it was already there. */
  putEvent(profileId: string, event: ScherpEvent): Promise<boolean>;
  /**
   * Events of one profile partition (not following merges), newest first: at most `limit`,
   * strictly older than `before` (a `position` this method returned).
   */
  listEvents(profileId: string, limit: number, before?: string): Promise<TimelineEntry[]>;
}

/** The identity graph's evidence (explain): identity items as stored and a profile's merge and split records. */
export interface IdentityGraphStore {
  /** The identity items of these identifiers, by `identifierKey` (one BatchGetItem per 100). */
  readIdentities(ids: readonly Identifier[]): Promise<Map<string, IdentityItemView>>;
  /** Every merge, refusal and split record kept in one profile partition (one Query of `MERGE#`). */
  listGraphRecords(profileId: string): Promise<{ merges: MergeRecord[]; splits: SplitRecord[] }>;
}

/** A timeline event as stored, with its sort key (for moving it to another partition). */
export interface StoredEvent {
  readonly profileId: string;
  readonly sk: string;
  readonly event: ScherpEvent;
}

/** One write of a split, all or nothing. */
export interface SplitWrite {
  /** Profile roots, each expected at its version (0: must not exist yet). */
  readonly roots: readonly { readonly profile: Profile; readonly expectedVersion: number }[];
  /** Identity items pointed at another profile (each expected to point at `from`); `block`: blocked globally. */
  readonly repoints: readonly { readonly id: Identifier; readonly from: string; readonly to: string; readonly block?: 'global' }[];
  readonly record: SplitRecord;
}

/** What a split (`app/split.ts`) writes besides what explain reads. */
export interface SplitStore {
  /** Every timeline event of one partition, oldest first (one paginated Query). */
  listPartitionEvents(profileId: string): Promise<StoredEvent[]>;
  /** The roots, identity items and split record in one transaction; false on any failed condition (nothing written). */
  applySplit(write: SplitWrite): Promise<boolean>;
  /** Moves events to another partition (copied, marked as moved so rules do not run on them again, then deleted). */
  moveEvents(moves: readonly { readonly event: StoredEvent; readonly to: string }[]): Promise<void>;
  /** The newest record of a split with this id kept in a profile's partition. */
  findSplit(profileId: string, splitId: string): Promise<SplitRecord | undefined>;
  /** The announcement of a settled split (the outbox of `Profile Split`); false when it was there already. */
  putSplitDone(record: SplitRecord): Promise<boolean>;
  /** Writes merge records again in place (same keys: a MODIFY, which the stream's filter does not pass). */
  rewriteMergeRecords(records: readonly MergeRecord[]): Promise<void>;
}

/** A profile root with its parts, as one read returns them. */
export interface ProfileWithParts {
  readonly stored: StoredProfile;
  readonly parts: ProfileParts;
}

/** Reading a whole profile cheaply: root and parts share a partition and a sort-key prefix. */
/** Parts with nothing in them: a profile no part item was written for yet. */
export function emptyParts(): ProfileParts {
  return {
    computed: dict(),
    audiences: dict(),
    consent: dict(),
    consentVersion: 0,
    recommendations: dict(),
  };
}

export interface ProfileReader {
  /** One Query of `P#<id>` for `PROFILE` and `PROFILE#…`; undefined when there is no root. */
  loadProfileWithParts(profileId: string): Promise<ProfileWithParts | undefined>;
  /** Every item of one profile's partition (for export): timeline events decoded, the other items as stored. */
  readPartition(profileId: string): Promise<PartitionExport>;
}

/** Whom an erasure is about: their profiles (survivor and merged) and a matcher for their identifiers. */
export interface ErasureSubject {
  readonly profileIds: readonly string[];
  readonly matches: PayloadMatcher;
}

/**
 * A store outside the table holding copies of personal data that erasure reaches (locally: the
 * bus log, the queue journal, the dead letters, the stream failures).
 */
export interface CopyStore {
  /** Named in the erasure answer (`bus.jsonl`, …). */
  readonly name: string;
  /** Deletes every entry naming one of the subject's profile ids or identifiers; returns how many. Idempotent. */
  eraseSubject(subject: ErasureSubject): Promise<number>;
}

/** A store erasure cannot reach: what it may still hold about the person, and when that is gone. */
export interface RetainedCopy {
  readonly store: string;
  readonly holds: string;
  /** When the last copy is gone at the latest, e.g. `30 days`. */
  readonly expiresWithin: string;
}

/** Erasure (data subject rights): deletes and suppression markers. */
export interface ErasureStore {
  /** Stores a suppression marker per identifier (a digest of `type:value`); idempotent. */
  suppress(ids: readonly Identifier[]): Promise<void>;
  /** Deletes every item of a profile partition (`P#<id>`); returns how many there were. */
  erasePartition(profileId: string): Promise<number>;
  /** Deletes identity items; returns how many. */
  eraseIdentities(ids: readonly Identifier[]): Promise<number>;
  /**
   * Takes what `matches` names out of the events other profiles keep that are indexed under these
   * identifiers (`ProfileStore.indexForeignIdentifiers`), and the traits those profiles' roots hold
   * that it names, then deletes those index entries; returns how many events changed. Idempotent.
   */
  redactForeignMentions(ids: readonly Identifier[], matches: (json: string) => boolean): Promise<number>;
  /**
   * Lifts an identifier's suppression marker and keeps an audit item next to it (when, by which
   * key kind; the marker's digest only), in one transaction; false when there is no marker.
   */
  liftSuppression(id: Identifier, audit: { readonly at: string; readonly by: string }): Promise<boolean>;
}

export interface PartitionExport {
  readonly profileId: string;
  readonly events: readonly ScherpEvent[];
  /** Root, parts, rule state, merge records: attributes by sort key. */
  readonly items: readonly Record<string, unknown>[];
}

/** One event of a timeline; `position` sorts events across profiles (newest is greatest). */
export interface TimelineEntry {
  readonly position: string;
  readonly profileId: string;
  readonly event: ScherpEvent;
}

export interface RuleStore {
  /** Every stored rule and audience document (unvalidated). */
  listRuleDocs(): Promise<unknown[]>;
  getRuleDoc(id: string): Promise<unknown | undefined>;
  putRuleDoc(doc: { id: string }): Promise<void>;
  /** False if there was no such rule. */
  deleteRuleDoc(id: string): Promise<boolean>;
}

/** An on-site recommendation, read by the website through the browser-safe context endpoint. */
export interface Recommendation {
  readonly ruleId: string;
  readonly data: Record<string, unknown>;
  readonly createdAt: string;
  readonly expiresAt: string;
}

/** The per-profile parts rules read and write, besides the root (one Query reads them all). */
export interface ProfileParts {
  /** Computed traits (`PROFILE#C`), empty until computed traits exist. */
  readonly computed: Record<string, unknown>;
  /** The whole `PROFILE#C` item (values, auxiliary state, version), for updating it. */
  readonly computedState?: StoredComputed;
  /** Audience id → when the profile entered it (a `PROFILE#AUD#<audienceId>` item each). */
  readonly audiences: Readonly<Record<string, string>>;
  /** Consent per purpose (`PROFILE#CONSENT`). */
  readonly consent: Consent;
  readonly consentVersion: number;
  /** Slot → recommendation (`PROFILE#REC`). */
  readonly recommendations: Readonly<Record<string, Recommendation>>;
}

/** What claiming a firing found: fired now, fired before for this same trigger, or held back. */
export type ClaimResult = 'claimed' | 'duplicate' | 'cooldown' | 'max-fires';

export interface FiringClaim {
  readonly dedupeId: string;
  /** ISO time of the firing. */
  readonly at: string;
  readonly cooldownMs?: number;
  readonly maxFires?: number;
}

export interface PersonalizationStore {
  loadParts(profileId: string): Promise<ProfileParts>;
  /** Conditional on the version read; false on a conflict. */
  saveConsent(profileId: string, consent: Consent, expectedVersion: number): Promise<boolean>;
  /**
   * Stores the profile's audiences `members`: for the difference from `change.previous` (the
   * state read; absent: none), the membership items and the counters of each audience, in one
   * transaction (`adapters/dynamo/membership-store.ts`); false when membership moved on since
   * it was read (re-read and decide again). No difference writes nothing.
   */
  saveAudiences(profileId: string, members: Readonly<Record<string, string>>, change?: AudienceChange): Promise<boolean>;
  /**
   * Writes several profiles' change of one audience each at once (a backfill's page), all or
   * nothing: false when any profile's membership moved on from `previous` (write those one
   * by one). At most as many changes as fit one transaction (`membershipBatches`); their count
   * and hour-bucket deltas all go to counter shard `countShard` (the count is the sum of the
   * shards, so any shard will do), and batches on different shards never conflict.
   */
  saveAudiencesBatch(changes: readonly AudienceBatchChange[], at: string, countShard: number): Promise<boolean>;
  putRecommendation(profileId: string, slot: string, rec: Recommendation): Promise<void>;
  /**
   * Records a firing of one action of one rule for a profile, in one conditional write: refused
   * when the same dedupe id was recorded already, within the cooldown, or past the maximum.
   */
  claimFiring(profileId: string, ruleId: string, actionId: string, claim: FiringClaim): Promise<ClaimResult>;
}

/** One profile's change of one audience in a batch (`PersonalizationStore.saveAudiencesBatch`). */
export interface AudienceBatchChange {
  readonly profileId: string;
  readonly audienceId: string;
  readonly entered: boolean;
  /** The profile's membership as read, and as it is to be. */
  readonly previous: Readonly<Record<string, string>>;
  readonly next: Readonly<Record<string, string>>;
  /** When the entered membership can age out (a due item is filed). */
  readonly dueAt?: string;
}

/** What a membership write changes: the state it read, when, and for entered audiences when to re-check them. */
export interface AudienceChange {
  readonly previous: Readonly<Record<string, string>>;
  readonly at: string;
  /** Audience id → when its history window can age the membership out (`core/expiry.ts`): a due item is filed. */
  readonly dueAt?: Readonly<Record<string, string>>;
}

/** A membership to re-check at its due time (time-based exits). */
export interface DueItem {
  readonly audienceId: string;
  readonly profileId: string;
  readonly dueAt: string;
}

/** The due index: membership re-checks filed by minute, swept every minute (`app/expiry.ts`). */
export interface DueStore {
  /** Items due at or before `nowMs`, from the minute after the last sweep (at most a day back). */
  listDue(nowMs: number): Promise<DueItem[]>;
  /** Files a re-check (outside a membership write: the sweeper re-filing a member still in). */
  file(item: DueItem): Promise<void>;
  remove(item: DueItem): Promise<void>;
  /** Remembers that everything due up to `nowMs` was swept. */
  markSwept(nowMs: number): Promise<void>;
}

/** One page of an audience's members. */
export interface MemberPage {
  readonly members: readonly { readonly profileId: string; readonly enteredAt: string }[];
  /** Opaque; absent on the last page. */
  readonly cursor?: string;
}

/** An audience's members and counters as stored (written by `PersonalizationStore.saveAudiences`). */
export interface MembershipReader {
  /** The per-shard counts and the last 24 hour buckets: a fixed number of small items, whatever the audience's size. */
  counters(audienceId: string, nowIso: string): Promise<AudienceCounters>;
  /** At most `limit` members from `cursor` on (throws a ValidationError naming `cursor` for one it did not return). */
  listMembers(audienceId: string, limit: number, cursor?: string): Promise<MemberPage>;
  /** At most `limit` members of one shard (`0 … MEMBER_SHARDS − 1`) from `cursor` on (exports, a shard per job segment). */
  listShard(audienceId: string, shard: number, limit: number, cursor?: string): Promise<MemberPage>;
}

/** Computed traits of a profile as stored, with the version used for optimistic concurrency. */
export interface StoredComputed {
  readonly state: ComputedState;
  /** 0: not stored yet. */
  readonly version: number;
}

/** The `PROFILE#C` part of profiles. */
export interface ComputedStore {
  load(profileIds: readonly string[]): Promise<Map<string, StoredComputed>>;
  /** Conditional on the version read (0: must not exist yet); false on a conflict. */
  save(profileId: string, state: ComputedState, expectedVersion: number): Promise<boolean>;
}

export interface HistoryStore {
  /** The timeline events of these profiles at or after `sinceIso`. */
  load(profileIds: readonly string[], sinceIso: string): Promise<ScherpEvent[]>;
  /** Ids of live (not merged away) profiles, a page at a time. */
  listProfileIds(cursor?: string): Promise<{ ids: string[]; cursor?: string }>;
}

/** A delayed action: checked again at `dueAt`, fired only if the rule still holds. */
export interface DelayedJob {
  readonly ruleId: string;
  readonly actionIndex: number;
  readonly profileId: string;
  readonly event: ScherpEvent;
  readonly dueAt: string;
  /** Names the schedule: scheduling the same job twice is a no-op. */
  readonly dedupeId: string;
}

export interface Scheduler {
  schedule(job: DelayedJob): Promise<void>;
}

/** Sends templated email (SES v2 in the cloud). */
export interface Mailer {
  sendTemplated(msg: { from: string; to: string; template: string; data: Record<string, unknown>; idempotencyKey: string }): Promise<void>;
}

/** The whole table at once, for the storage invariant checker (`app/check.ts`): a full scan, never on a hot path. */
export interface StorageScanner {
  snapshot(): Promise<StorageSnapshot>;
}

/** The live event debugger's storage: the session marker and the short-lived entries (`core/debug.ts`). */
export interface DebugStore {
  /** When the open session closes (epoch ms), or undefined when none is open (an expired marker counts as none). */
  sessionExpiry(): Promise<number | undefined>;
  /** Opens (or renews) the session until `expiresAt` (epoch ms). */
  openSession(expiresAt: number): Promise<void>;
  /** Keeps entries until `expiresAt` (epoch ms); best effort is the caller's business: throws on failure. */
  save(entries: readonly DebugEntry[], expiresAt: number): Promise<void>;
  /** Entries not yet expired, newest first, with ids greater than `since`, at most `limit` (before filtering: `filter` is applied while reading). */
  list(opts: { readonly since?: string; readonly limit: number; readonly filter: (e: DebugEntry) => boolean }): Promise<DebugEntry[]>;
}

/** The Overview's hourly counters (`core/stats.ts`): one small item per hour. */
export interface StatsStore {
  /** Adds one batch's counts of one hour in one update (names: at most the hour's cap); throws on failure. */
  add(tally: HourTally): Promise<void>;
  /** The stored hours of these days (`yyyy-mm-dd`). */
  readDays(days: readonly string[]): Promise<HourCounts[]>;
}

/** Depths of the pipeline's queues and their dead-letter queues (`GET /v1/health`). */
export interface QueueMonitor {
  depths(): Promise<QueueHealth[]>;
}

/** Stream records evaluate failed on and not yet replayed (`adapters/dynamo/evaluation-failures.ts`). */
export interface EvaluationFailureLog {
  list(): Promise<readonly { readonly at: string; readonly reason: string; readonly sequenceNumber: string }[]>;
}

/** Jobs and their segments (`core/jobs.ts`): the job item, one item per segment, one lock per subject. */
export interface JobStore {
  /** Stores a new job with its segments and takes its subject's lock, all or nothing; false when another job holds the lock. */
  create(job: Job): Promise<boolean>;
  get(jobId: string): Promise<{ job: Job; segments: SegmentState[] } | undefined>;
  /** Newest first. */
  list(limit: number): Promise<Job[]>;
  /** The job currently holding a subject's lock, if any. */
  lockHolder(subject: string): Promise<string | undefined>;
  /** The job's status alone (one small read: workers check it before each page). */
  status(jobId: string): Promise<JobStatus | undefined>;
  /** Saves a segment's progress (its cursor after a page). */
  checkpoint(jobId: string, state: SegmentState): Promise<void>;
  /** Ends a job (`succeeded`, `failed`, `cancelled`) and frees its subject; false when it had ended already. */
  finish(job: Job, status: Exclude<JobStatus, 'running'>, at: string, error?: string): Promise<boolean>;
}

/** One page of a parallel-scan segment: the live profile roots in it. */
export interface ScanPage {
  readonly profileIds: readonly string[];
  /** Where the next page starts; absent when the segment is done. */
  readonly cursor?: string;
  /** Capacity units the page used (read). */
  readonly units: number;
  /** Keys of root items that could not be read. */
  readonly corrupt: readonly string[];
  /**
   * Profiles whose root and parts the page held whole (the scan reads `PROFILE*` items), by id:
   * a backfill needs no further read for them. The last profile of a page may be cut; it is absent.
   */
  readonly loaded?: ReadonlyMap<string, ProfileWithParts>;
}

/** The table's profile roots, segment by segment (DynamoDB parallel scan). */
export interface ProfileScanner {
  scanSegment(segment: number, totalSegments: number, cursor: string | undefined, limit: number): Promise<ScanPage>;
}

/** Files jobs write (export parts): an S3 bucket in the cloud, a folder under `.scherp/` locally. */
export interface JobFileStore {
  put(key: string, body: string, contentType: string): Promise<void>;
  /** Absent: no such file (expired, or never written). */
  get(key: string): Promise<{ readonly body: string; readonly contentType: string } | undefined>;
}

/** Starts the workers of a job: an in-process pool locally, a Step Functions execution in the cloud. */
export interface JobLauncher {
  launch(job: Job): Promise<void>;
}
