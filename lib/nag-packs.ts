import { type Stage, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, type NagPack, ServerlessChecks } from 'cdk-nag';

/*
 * cdk-nag is a dev dependency: only this repository's app (`bin/app.ts`) and tests register the
 * packs. The published construct does not import this file (see `lib/index.ts`).
 */

/** The cdk-nag packs Scherp is held to. */
export function nagPacks(): NagPack[] {
  return [new AwsSolutionsChecks(), new ServerlessChecks()];
}

/**
 * Registers the packs as policy-validation plugins: any unacknowledged finding (error or
 * warning) fails `cdk synth`. cdk-nag 3 packs can only be registered on an App or Stage.
 */
export function addNagChecks(stage: Stage): void {
  Validations.of(stage).addPlugins(...nagPacks());
}
