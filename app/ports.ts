/**
 * The ports the use cases talk to. DynamoDB, SQS, EventBridge and Secrets Manager implement
 * them in adapters/; the local runtime and the tests swap in their own.
 */
import type { FieldIssue, Party, ScherpEvent } from '../core/events';
import type { Source, SourceKey } from '../core/sources';
import type { Identifier } from '../core/identity';
import type { Profile } from '../core/profile';

/** Accepted events on their way to `stitch`. */
export interface EventQueue {
  /** Queues every event or throws; never queues part silently. */
  send(events: readonly ScherpEvent[]): Promise<void>;
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
  readonly status: SourceKey['status'];
}

/** A source with its keys (ids and states only). */
export interface SourceWithKeys {
  readonly source: Source;
  readonly keys: readonly SourceKey[];
}

/** Sources and their write keys; keys are handed over and stored as digests only. */
export interface SourceStore {
  /** Stores a new source with its first key, all or nothing. */
  createSource(source: Source, key: SourceKey, digest: string): Promise<void>;
  listSources(): Promise<SourceWithKeys[]>;
  getSource(sourceId: string): Promise<SourceWithKeys | undefined>;
  /** Adds a key to an existing source; false when the source does not exist. */
  addKey(source: Source, key: SourceKey, digest: string): Promise<boolean>;
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

export interface ProfileStore {
  /** The profile each identifier points to, by `identifierKey`. */
  getIdentityOwners(ids: readonly Identifier[]): Promise<Map<string, string>>;
  /** Points an identifier at a profile unless it already points somewhere; returns the owner. */
  claimIdentity(id: Identifier, profileId: string, at: string): Promise<string>;
  getProfiles(profileIds: readonly string[]): Promise<Map<string, StoredProfile>>;
  /**
   * Writes a profile root if its stored version is still `expectedVersion` (0: not yet stored)
   * and it has not been merged away; returns false on a conflict.
   */
  saveProfile(profile: Profile, expectedVersion: number): Promise<boolean>;
  /** Stores an event on a profile's timeline; false if it was already there. */
  putEvent(profileId: string, event: ScherpEvent): Promise<boolean>;
}

export interface RuleStore {
  /** Every stored rule document (unvalidated). */
  listRuleDocs(): Promise<unknown[]>;
  putRuleDoc(doc: { id: string }): Promise<void>;
}
