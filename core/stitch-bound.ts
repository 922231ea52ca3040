/**
 * How long a `stitch` can still store an event after it read a profile: pure constants, shared by
 * the stack (the stitch function's default timeout) and a split's final settle pass
 * (`app/split.ts`), which waits for that bound.
 */

/**
 * The longest a `stitch` invocation runs (the stitch function's default timeout; the CDK stack
 * gives the identity function the configured one). Lambda ends an invocation at its timeout, and
 * `stitch` itself stores no event past its invocation's start plus this (`StitchOptions.deadline`:
 * the same bound locally, where nothing else ends a call), so a `stitch` that read a profile before
 * a split's transaction has stored its event by the commit plus this.
 */
export const DEFAULT_STITCH_TIMEOUT_SECONDS = 30;

/** Added to the stitch bound for the request in flight at the deadline and for clocks that differ. */
export const STALE_STITCH_MARGIN_MS = 60_000;
