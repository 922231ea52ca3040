import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
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

/** The statements of every IAM policy attached to a function's role. */
function statementsOf(s: Synthesized, fn: IFunction): any[] {
  const role = fn.role as iam.Role;
  const roleId = s.stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
  const policies = s.template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) } });
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** Every IAM action granted to a function's role, over all policies attached to it. */
export function actionsOf(s: Synthesized, fn: IFunction): { actions: string[]; resources: unknown[] } {
  const statements = statementsOf(s, fn);
  return {
    actions: statements.flatMap((st) => [st.Action].flat()),
    resources: statements.flatMap((st) => [st.Resource].flat()),
  };
}

/** The leading-key conditions of a function's DynamoDB statements. */
export function leadingKeysOf(s: Synthesized, fn: IFunction): (string[] | undefined)[] {
  return statementsOf(s, fn)
    .filter((st) => [st.Action].flat().some((a: string) => a.startsWith('dynamodb:')))
    .map((st) => st.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys']);
}

/** The template properties of a function. */
export function functionProps(s: Synthesized, fn: IFunction): Record<string, any> {
  const id = s.stack.getLogicalId(fn.node.defaultChild as never);
  return s.template.toJSON().Resources[id].Properties;
}
