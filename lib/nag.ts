import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges one cdk-nag finding on a construct (and its children), with the reason.
 *
 * This is aws-cdk-lib's own policy-validation API, so the construct carries its
 * acknowledgments without depending on cdk-nag at run time: an app that registers the packs
 * (this repository's `bin/app.ts` does, see `lib/nag-packs.ts`) sees them; one that does not
 * is unaffected.
 */
export function ack(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}
