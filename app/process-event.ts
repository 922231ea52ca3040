/**
 * What `stitch` does with one queued event: resolve it to a profile and store it, once.
 *
 * An event whose sender stated its time (every Segment-compatible SDK does) has the same
 * timeline key on every retry of its request (`timelineTime`), so the conditional put of the
 * timeline item is its dedupe: no marker is written (one write less per event). Only an event
 * without a stated time (its time is the receipt time, new on each retry) claims a dedupe marker
 * first, and a repeat within the dedupe window reuses the first timestamp, so a half-done first
 * attempt is completed at the same key.
 */
import type { IdentityConfig } from '../core/config';
import type { TraitPolicy } from '../core/profile';
import { hasStatedTime, type ScherpEvent } from '../core/events';
import { dedupe } from './dedupe';
import type { MessageLog, ProfileStore } from './ports';
import { stitch, type StitchResult } from './stitch';

export interface ProcessEventDeps {
  readonly store: ProfileStore;
  /** Remembers (source, messageId) pairs of events without a stated time; without it there is no dedupe beyond the timeline key. */
  readonly messages?: MessageLog;
  readonly identity: IdentityConfig;
  /** Source precedence per trait (config `traits`). */
  readonly traits?: TraitPolicy;
  /** Drop events carrying an erased identifier (config `privacy.suppressErased`). */
  readonly suppressErased?: boolean;
  /** No event stored after this (epoch ms; `StitchOptions.deadline`). */
  readonly deadline?: number;
}

export interface ProcessEventResult extends StitchResult {
  /** The (source, messageId) pair was seen before (within the dedupe window, or on the timeline). */
  readonly repeat: boolean;
}

export async function processEvent(deps: ProcessEventDeps, event: ScherpEvent): Promise<ProcessEventResult> {
  const d = deps.messages && !hasStatedTime(event) ? await dedupe(deps.messages, event) : { event, seen: false };
  const r = await stitch(deps.store, d.event, {
    identity: deps.identity,
    traits: deps.traits,
    suppressErased: deps.suppressErased,
    ...(deps.deadline !== undefined ? { deadline: deps.deadline } : {}),
  });
  // With a stated time, a repeat is an event already on the timeline.
  return { ...r, repeat: d.seen || (r.duplicate && hasStatedTime(event)) };
}
