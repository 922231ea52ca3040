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
 * the packs are registered by `addNagChecks` (lib/nag.ts, called from `bin/app.ts`); the
 * construct itself carries the justified acknowledgments of the findings it accepts.
 */
export class ScherpStack extends Stack {
  /** The platform with all its resources. */
  public readonly platform: CustomerDataPlatform;

  constructor(scope: Construct, id: string, props: ScherpStackProps = {}) {
    const { platform, ...stackProps } = props;
    super(scope, id, { description: 'Scherp: serverless Customer Data Platform', ...stackProps });
    this.platform = new CustomerDataPlatform(this, 'Platform', platform);
  }
}
