/**
 * Seeds rule documents into the table at deploy time: one `AwsCustomResource` per rule (PutItem
 * on create and update, DeleteItem when the rule leaves the set), all run by CDK's singleton
 * provider function under one role with one grant on the table. A policy per rule (the
 * `AwsCustomResource` default) would add an inline policy to that role for every rule, and IAM
 * allows a role 10,240 bytes of inline policies in all: about 50 rules.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { keys, ruleItem } from '../adapters/dynamo/keys';
import { tableItems } from './bind';
import { ack } from './nag';
import type { RuleDocument } from './rules';

/** The SDK calls a seeding resource makes, as IAM actions (the IAM contract test reads these). */
export const RULE_SEEDING_ACTIONS = ['dynamodb:PutItem', 'dynamodb:DeleteItem'] as const;

export function seedRuleDocuments(scope: Construct, table: dynamodb.ITableV2, rules: readonly RuleDocument[]): void {
  if (rules.length === 0) return;
  const role = new iam.Role(scope, 'SeedingRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: 'Scherp rule seeding (deploy time only)',
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
  });
  const tableName = table.tableName;
  for (const rule of rules) {
    const put: cr.AwsSdkCall = {
      service: 'DynamoDB',
      action: 'putItem',
      parameters: { TableName: tableName, Item: marshall(ruleItem(rule)) },
      physicalResourceId: cr.PhysicalResourceId.of(`rule:${rule.id}`),
    };
    new cr.AwsCustomResource(scope, rule.id.replace(/\//g, '_'), {
      resourceType: 'Custom::ScherpRule',
      onCreate: put,
      onUpdate: put,
      onDelete: { service: 'DynamoDB', action: 'deleteItem', parameters: { TableName: tableName, Key: marshall(keys.rule(rule.id)) } },
      role,
      installLatestAwsSdk: false,
    });
  }
  // The provider is a stack-wide singleton: when another AwsCustomResource of the stack created
  // it first, it runs under that one's role, so the grant goes to whichever role it has.
  const provider = Stack.of(scope).node.tryFindChild(`AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`) as
    | { role?: iam.IRole }
    | undefined;
  const runAs = provider?.role ?? role;
  const grant = tableItems(table).grant(runAs, ...RULE_SEEDING_ACTIONS);
  // The grant must be in place before the resources that use it run.
  for (const c of scope.node.children) if (c instanceof cr.AwsCustomResource) grant.applyBefore(c);
  ack(
    role,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'Role of the CDK-managed function that seeds the rules during deployments only; it writes its own logs with the basic execution policy.',
  );
}
