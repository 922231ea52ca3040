import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { CustomerDataPlatform, type CustomerDataPlatformProps } from './customer-data-platform';
import { DEFAULT_RULES_DIR } from './rules';

/** Properties of {@link ScherpStack}. */
export interface ScherpStackProps extends StackProps {
  /**
   * Passed through to the platform construct.
   * @default - the construct's defaults, with the example rules of `rules/` seeded
   */
  readonly platform?: CustomerDataPlatformProps;
}

/**
 * The deployable Scherp stack of this repository (`bin/app.ts`, not part of the package): one
 * {@link CustomerDataPlatform} that asks for the example rules of `rules/` (the construct seeds
 * none unless asked), as `npm start` loads them locally.
 *
 * cdk-nag 3 runs as a policy-validation plugin, which CDK only accepts on an App or Stage, so
 * the packs are registered by `addNagChecks` (lib/nag-packs.ts, called from `bin/app.ts`); the
 * construct itself carries the justified acknowledgments of the findings it accepts.
 */
export class ScherpStack extends Stack {
  /** The platform with all its resources. */
  public readonly platform: CustomerDataPlatform;

  constructor(scope: Construct, id: string, props: ScherpStackProps = {}) {
    const { platform, ...stackProps } = props;
    super(scope, id, { description: 'Scherp: serverless Customer Data Platform', ...stackProps });
    this.platform = new CustomerDataPlatform(this, 'Platform', { rulesDir: DEFAULT_RULES_DIR, ...platform });
  }
}
