/**
 * Environment and permission set together (Powertools' `bindTable` idea): each `bind…` call adds
 * the variable a handler reads (names from `lambdas/shared/env.ts`) and the matching grant, so a
 * function can never have a resource's name without the right to use it, or the reverse.
 */
import { Names, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { ENV } from '../lambdas/shared/env';

/**
 * What a function may do on the table: item reads (`read`), item reads and writes
 * (`readWrite`), exact actions, optionally only on items whose partition key matches one of
 * `leadingKeys` (`*` wildcards; the `dynamodb:LeadingKeys` condition), or exact actions on one
 * secondary index (`index`: its ARN, nothing else).
 */
export type TableAccess =
  | 'read'
  | 'readWrite'
  | { readonly actions: readonly string[]; readonly leadingKeys?: readonly string[] }
  | { readonly actions: readonly string[]; readonly index: string };

const itemsOnly = new WeakMap<dynamodb.ITableV2, dynamodb.ITableV2>();

/**
 * The table for grants on its items alone: CDK's grants on a table with an index also name
 * `<table>/index/*`; these name the table's ARN only (an index is granted where it is queried,
 * with `index` access).
 */
export function tableItems(table: dynamodb.ITableV2): dynamodb.ITableV2 {
  let t = itemsOnly.get(table);
  if (!t) {
    t = dynamodb.TableV2.fromTableAttributes(Stack.of(table), `${Names.nodeUniqueId(table.node)}ItemsOnly`, { tableArn: table.tableArn });
    itemsOnly.set(table, t);
  }
  return t;
}

/** `TABLE_NAME` and each of `access`. */
export function bindTable(fn: lambda.Function, table: dynamodb.ITableV2, ...access: TableAccess[]): void {
  fn.addEnvironment(ENV.TABLE_NAME, table.tableName);
  grantTable(fn, table, ...access);
}

/** Each of `access` alone, for a function that gets the table's name another way (the jobs worker: with its configuration). */
export function grantTable(fn: lambda.Function, table: dynamodb.ITableV2, ...access: TableAccess[]): void {
  for (const a of access) {
    if (a === 'read') tableItems(table).grantReadData(fn);
    else if (a === 'readWrite') tableItems(table).grantReadWriteData(fn);
    else if ('index' in a)
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: [...a.actions], resources: [`${table.tableArn}/index/${a.index}`] }));
    else if (a.leadingKeys === undefined) tableItems(table).grant(fn, ...a.actions);
    else
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: [...a.actions],
          resources: [table.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...a.leadingKeys] } },
        }),
      );
  }
}

/** A secret's ARN under `envName`, and reading its value. */
export function bindSecret(fn: lambda.Function, envName: string, secret: secretsmanager.ISecret): void {
  fn.addEnvironment(envName, secret.secretArn);
  secret.grantRead(fn);
}

/** Which variables carry a queue's URL and ARN (names from `ENV`). */
export interface QueueVariables {
  readonly url: string;
  readonly arn?: string;
}

/**
 * A queue's URL (and ARN) under the given names, and `send` (SendMessage and what it needs) or
 * the listed SQS actions.
 */
export function bindQueue(fn: lambda.Function, queue: sqs.IQueue, vars: QueueVariables, access: 'send' | readonly string[]): void {
  fn.addEnvironment(vars.url, queue.queueUrl);
  if (vars.arn) fn.addEnvironment(vars.arn, queue.queueArn);
  if (access === 'send') queue.grantSendMessages(fn);
  else queue.grant(fn, ...access);
}

/** `EVENT_BUS_NAME`, and PutEvents on that bus. */
export function bindBus(fn: lambda.Function, bus: events.IEventBus): void {
  fn.addEnvironment(ENV.EVENT_BUS_NAME, bus.eventBusName);
  bus.grantPutEventsTo(fn);
}

/** Plain variables (limits, retention days): `String` of each value. */
export function bindSettings(fn: lambda.Function, settings: Readonly<Record<string, string | number>>): void {
  for (const [name, value] of Object.entries(settings)) fn.addEnvironment(name, String(value));
}
