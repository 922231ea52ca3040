/**
 * The ports the use cases talk to. DynamoDB, SQS, EventBridge and Secrets Manager implement
 * them in adapters/; the local runtime and the tests swap in their own.
 */
import type { ScherpEvent } from '../core/events';
import type { Identifier } from '../core/identity';
import type { MergeRecord, Profile } from '../core/profile';

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
}

export interface KeyStore {
  /** The principal a key belongs to, if it is a valid key of that kind. */
  authenticate(kind: KeyKind, key: string): Promise<Principal | undefined>;
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
  /**
   * One merge, all or nothing: the survivor (expected at `survivorVersion`), every loser turned
   * into a pointer (`mergedInto` set; each expected at its version and not merged yet) and the
   * merge record. False on any conflict (nothing is written then).
   */
  mergeProfiles(survivor: Profile, survivorVersion: number, losers: readonly StoredProfile[], record: MergeRecord): Promise<boolean>;
  /** Stores a merge record unless one for the same event is already there; false if it was. */
  putMergeRecord(record: MergeRecord): Promise<boolean>;
  /** Stores an event on a profile's timeline; false if it was already there. */
  putEvent(profileId: string, event: ScherpEvent): Promise<boolean>;
  /**
   * Events of one profile partition (not following merges), newest first: at most `limit`,
   * strictly older than `before` (a `position` this method returned).
   */
  listEvents(profileId: string, limit: number, before?: string): Promise<TimelineEntry[]>;
}

/** One event of a timeline; `position` sorts events across profiles (newest is greatest). */
export interface TimelineEntry {
  readonly position: string;
  readonly profileId: string;
  readonly event: ScherpEvent;
}

export interface RuleStore {
  /** Every stored rule document (unvalidated). */
  listRuleDocs(): Promise<unknown[]>;
  putRuleDoc(doc: { id: string }): Promise<void>;
}
