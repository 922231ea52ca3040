import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CustomerDataPlatform, CustomerDataPlatformProps } from './customer-data-platform';

/** Properties of {@link ScherpStack}. */
export interface ScherpStackProps extends StackProps {
  /**
   * Passed through to the platform construct.
   * @default - the construct's defaults
   */
  readonly platform?: CustomerDataPlatformProps;
}

/**
 * The deployable Scherp stack: one {@link CustomerDataPlatform}.
 *
 * cdk-nag 3 runs as a policy-validation plugin, which CDK only accepts on an App or Stage, so
 * the packs are registered by {@link addNagChecks} (called from `bin/app.ts`); the construct
 * itself carries the justified acknowledgments of the findings it accepts.
 */
export class ScherpStack extends Stack {
  public readonly platform: CustomerDataPlatform;

  constructor(scope: Construct, id: string, props: ScherpStackProps = {}) {
    super(scope, id, { description: 'Scherp: serverless Customer Data Platform', ...props });
    this.platform = new CustomerDataPlatform(this, 'Platform', props.platform);
  }
}
