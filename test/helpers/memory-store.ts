/**
 * An in-memory ProfileStore with the same conditional semantics as the DynamoDB one, for fast
 * property tests of the stitch use case (integration tests use the real DynamoDB Local).
 */
import type { IdentityLookup, ProfileStore, StoredProfile, TimelineEntry } from '../../app/ports';
import { timelineTime, type ScherpEvent } from '../../core/events';
import { identifierKey, type Identifier } from '../../core/identity';
import type { MergeRecord, Profile } from '../../core/profile';

export class MemoryProfileStore implements ProfileStore {
  readonly identities = new Map<string, string>();
  readonly profiles = new Map<string, StoredProfile>();
  readonly events = new Map<string, Map<string, ScherpEvent>>();
  readonly mergeRecords = new Map<string, MergeRecord>();

  async getIdentityOwners(ids: readonly Identifier[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const id of ids) {
      const o = this.identities.get(identifierKey(id));
      if (o !== undefined) out.set(identifierKey(id), o);
    }
    return out;
  }

  /** `identifierKey`s of erased identifiers. */
  readonly suppressed = new Set<string>();

  async lookupIdentities(ids: readonly Identifier[], opts?: { suppression?: boolean }): Promise<IdentityLookup> {
    return {
      owners: await this.getIdentityOwners(ids),
      suppressed: opts?.suppression ? ids.map(identifierKey).filter((k) => this.suppressed.has(k)) : [],
    };
  }

  async claimIdentity(id: Identifier, profileId: string): Promise<string> {
    const k = identifierKey(id);
    if (!this.identities.has(k)) this.identities.set(k, profileId);
    return this.identities.get(k)!;
  }

  async getProfiles(profileIds: readonly string[]): Promise<Map<string, StoredProfile>> {
    const out = new Map<string, StoredProfile>();
    for (const id of profileIds) if (this.profiles.has(id)) out.set(id, this.profiles.get(id)!);
    return out;
  }

  private canWrite(id: string, expectedVersion: number): boolean {
    const cur = this.profiles.get(id);
    return expectedVersion === 0 ? cur === undefined : cur !== undefined && cur.version === expectedVersion && !cur.profile.mergedInto;
  }

  async saveProfile(profile: Profile, expectedVersion: number): Promise<boolean> {
    if (!this.canWrite(profile.id, expectedVersion)) return false;
    this.profiles.set(profile.id, { profile, version: expectedVersion + 1 });
    return true;
  }

  async createProfile(profile: Profile, first: Identifier): Promise<boolean> {
    if (!this.canWrite(profile.id, 0) || this.identities.has(identifierKey(first))) return false;
    this.profiles.set(profile.id, { profile, version: 1 });
    this.identities.set(identifierKey(first), profile.id);
    return true;
  }

  async mergeProfiles(survivor: Profile, survivorVersion: number, losers: readonly StoredProfile[], record: MergeRecord): Promise<boolean> {
    const rk = `${record.profileId}/${record.eventTimestamp}/${record.messageId}`;
    if (
      !this.canWrite(survivor.id, survivorVersion) ||
      losers.some((l) => !this.canWrite(l.profile.id, l.version)) ||
      this.mergeRecords.has(rk)
    )
      return false;
    this.profiles.set(survivor.id, { profile: survivor, version: survivorVersion + 1 });
    for (const l of losers)
      this.profiles.set(l.profile.id, { profile: { ...l.profile, mergedInto: survivor.id, updatedAt: record.at }, version: l.version + 1 });
    this.mergeRecords.set(rk, record);
    return true;
  }

  async putMergeRecord(record: MergeRecord): Promise<boolean> {
    const rk = `${record.profileId}/${record.eventTimestamp}/${record.messageId}`;
    if (this.mergeRecords.has(rk)) return false;
    this.mergeRecords.set(rk, record);
    return true;
  }

  /** Foreign-identifier index entries: `<ref>\u0000<profileId>\u0000<messageId>`. */
  readonly foreignMentions = new Set<string>();

  async indexForeignIdentifiers(refs: readonly string[], profileId: string, event: ScherpEvent): Promise<void> {
    for (const r of refs) this.foreignMentions.add(`${r}\u0000${profileId}\u0000${event.messageId}`);
  }

  async putEvent(profileId: string, event: ScherpEvent): Promise<boolean> {
    const p = this.events.get(profileId) ?? new Map<string, ScherpEvent>();
    this.events.set(profileId, p);
    const k = `EV#${timelineTime(event)}#${event.messageId}`;
    if (p.has(k)) return false;
    p.set(k, event);
    return true;
  }

  async listEvents(profileId: string, limit: number, before?: string): Promise<TimelineEntry[]> {
    return [...(this.events.get(profileId) ?? new Map<string, ScherpEvent>()).entries()]
      .filter(([k]) => before === undefined || k < before)
      .sort(([a], [b]) => (a < b ? 1 : -1))
      .slice(0, limit)
      .map(([position, event]) => ({ position, profileId, event }));
  }
}
