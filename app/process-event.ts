/**
 * What `stitch` does with one queued event: drop a repeat of a (source, messageId) seen within
 * the dedupe window (reusing its first timestamp, so a half-done first attempt is completed),
 * then resolve it to a profile and store it.
 */
import type { IdentityConfig } from '../core/config';
import type { TraitPolicy } from '../core/profile';
import type { ScherpEvent } from '../core/events';
import { dedupe } from './dedupe';
import type { MessageLog, ProfileStore } from './ports';
import { stitch, type StitchResult } from './stitch';

export interface ProcessEventDeps {
  readonly store: ProfileStore;
  /** Remembers (source, messageId) pairs; without it there is no dedupe beyond the timeline key. */
  readonly messages?: MessageLog;
  readonly identity: IdentityConfig;
  /** Source precedence per trait (config `traits`). */
  readonly traits?: TraitPolicy;
  /** Drop events carrying an erased identifier (config `privacy.suppressErased`). */
  readonly suppressErased?: boolean;
}

export interface ProcessEventResult extends StitchResult {
  /** The (source, messageId) pair was seen before within the dedupe window. */
  readonly repeat: boolean;
}

export async function processEvent(deps: ProcessEventDeps, event: ScherpEvent): Promise<ProcessEventResult> {
  const d = deps.messages ? await dedupe(deps.messages, event) : { event, seen: false };
  const r = await stitch(deps.store, d.event, { identity: deps.identity, traits: deps.traits, suppressErased: deps.suppressErased });
  return { ...r, repeat: d.seen };
}
