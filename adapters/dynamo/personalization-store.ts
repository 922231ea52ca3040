/**
 * The profile parts rules read and write (audiences, consent, recommendations, computed
 * traits) and the per-rule state, each a small item in the profile's partition.
 */
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Consent } from '../../core/consent';
import type {
  AudienceBatchChange,
  AudienceChange,
  ClaimResult,
  FiringClaim,
  PersonalizationStore,
  ProfileParts,
  Recommendation,
} from '../../app/ports';
import { emptyParts } from '../../app/ports';
import { isConditionFailure, putVersioned } from './conditions';
import { decodeComputed } from './computed-store';
import { saveMembership, saveMembershipBatch } from './membership-store';
import { keys, MEMBERSHIP_SK_PREFIX, PART_SK, PROFILE_PART_SK_PREFIX } from './keys';
import { dict } from '../../core/dict';

const SLOT_PREFIX = 's_';

/** The parts among a profile partition's `PROFILE#…` items (the root and others are ignored). */
export function decodeParts(items: readonly Record<string, unknown>[]): ProfileParts {
  let parts: ProfileParts = emptyParts();
  const audiences = dict<string>();
  for (const it of items) {
    if (it.sk === PART_SK.computed) {
      const stored = decodeComputed(it);
      parts = { ...parts, computed: dict(stored.state.values), computedState: stored };
    } else if (typeof it.sk === 'string' && it.sk.startsWith(MEMBERSHIP_SK_PREFIX) && typeof it.at === 'string') {
      audiences[it.sk.slice(MEMBERSHIP_SK_PREFIX.length)] = it.at; // (an item without `at` is a membership left)
    } else if (it.sk === PART_SK.consent) {
      parts = { ...parts, consent: dict(JSON.parse(it.c as string) as Consent), consentVersion: it.ver as number };
    } else if (it.sk === PART_SK.recommendations) {
      const recs = dict<Recommendation>();
      for (const [k, v] of Object.entries(it))
        if (k.startsWith(SLOT_PREFIX)) recs[k.slice(SLOT_PREFIX.length)] = JSON.parse(v as string) as Recommendation;
      parts = { ...parts, recommendations: recs };
    }
  }
  return { ...parts, audiences };
}

export class DynamoPersonalizationStore implements PersonalizationStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async loadParts(profileId: string): Promise<ProfileParts> {
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
        ExpressionAttributeValues: { ':pk': keys.profile(profileId).pk, ':sk': PROFILE_PART_SK_PREFIX },
        ConsistentRead: true,
      }),
    );
    return decodeParts(res.Items ?? []);
  }

  saveConsent(profileId: string, consent: Consent, expectedVersion: number): Promise<boolean> {
    return putVersioned(this.doc, this.tableName, keys.consent(profileId), { c: JSON.stringify(consent) }, expectedVersion);
  }

  saveAudiences(profileId: string, members: Readonly<Record<string, string>>, change?: AudienceChange): Promise<boolean> {
    const previous = change?.previous ?? {};
    const at = change?.at ?? new Date().toISOString();
    return saveMembership(this.doc, this.tableName, profileId, previous, members, at, change?.dueAt);
  }

  saveAudiencesBatch(changes: readonly AudienceBatchChange[], at: string, countShard: number): Promise<boolean> {
    return saveMembershipBatch(this.doc, this.tableName, changes, at, countShard);
  }

  async putRecommendation(profileId: string, slot: string, rec: Recommendation): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.recommendations(profileId),
        UpdateExpression: 'SET #s = :r',
        ExpressionAttributeNames: { '#s': SLOT_PREFIX + slot },
        ExpressionAttributeValues: { ':r': JSON.stringify(rec) },
      }),
    );
  }

  async claimFiring(profileId: string, ruleId: string, actionId: string, claim: FiringClaim): Promise<ClaimResult> {
    const names: Record<string, string> = { '#n': `n_${actionId}`, '#l': `l_${actionId}`, '#d': `d_${actionId}` };
    const values: Record<string, unknown> = { ':d': claim.dedupeId, ':at': claim.at, ':one': 1, ':zero': 0 };
    const conds = ['(attribute_not_exists(#d) OR #d <> :d)'];
    if (claim.maxFires !== undefined) {
      conds.push('(attribute_not_exists(#n) OR #n < :max)');
      values[':max'] = claim.maxFires;
    }
    if (claim.cooldownMs !== undefined) {
      conds.push('(attribute_not_exists(#l) OR #l <= :cutoff)');
      values[':cutoff'] = new Date(Date.parse(claim.at) - claim.cooldownMs).toISOString();
    }
    const key = keys.ruleState(profileId, ruleId);
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET #n = if_not_exists(#n, :zero) + :one, #l = :at, #d = :d',
          ConditionExpression: conds.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return 'claimed';
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    const got = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    const item = got.Item ?? {};
    if (item[names['#d']!] === claim.dedupeId) return 'duplicate';
    if (claim.maxFires !== undefined && (item[names['#n']!] as number) >= claim.maxFires) return 'max-fires';
    return 'cooldown';
  }
}
