import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CustomerDataPlatformProps } from '../../lib/customer-data-platform';
import { addNagChecks } from '../../lib/nag-packs';
import { ScherpStack } from '../../lib/scherp-stack';

export interface Synthesized {
  readonly app: App;
  readonly stack: ScherpStack;
  readonly template: Template;
}

/**
 * Synthesizes the Scherp stack the way `bin/app.ts` does (nag packs registered), but without
 * running esbuild: the `aws:cdk:bundling-stacks` context turns NodejsFunction bundling off.
 */
export function synthScherp(platform?: CustomerDataPlatformProps, options: { nag?: boolean } = {}): Synthesized {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ScherpStack(app, 'Scherp', { platform });
  if (options.nag ?? true) addNagChecks(app);
  return { app, stack, template: Template.fromStack(stack) };
}
