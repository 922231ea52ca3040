import { Stage, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { AwsSolutionsChecks, NagPack, ServerlessChecks } from 'cdk-nag';

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

/** Acknowledges one cdk-nag finding on a construct (and its children), with the reason. */
export function ack(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}
