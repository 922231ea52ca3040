import { App, CfnResource, Names, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { cdkLogicalId, keepPlatformLogicalIds, platformResourceName } from '../../lib/naming';

/** A CfnResource at `path` below a new stack, and the logical ID CDK gives it. */
function cdkIdOf(path: string[]): string {
  const stack = new Stack(new App(), 'S');
  let scope: Construct = stack;
  for (const id of path.slice(0, -1)) scope = new Construct(scope, id);
  const r = new CfnResource(scope, path[path.length - 1]!, { type: 'Test::Thing' });
  return stack.resolve(r.logicalId);
}

describe('cdkLogicalId', () => {
  test.each([
    [['Table']],
    [['Platform', 'Table']],
    [['Platform', 'Collect', 'Resource']],
    [['Platform', 'Default', 'Thing']],
    [['Platform', 'CollectRole', 'DefaultPolicy', 'Resource']],
    [['Platform', 'HttpApi', 'POST--v1--track', 'CollectIntegration-Permission']],
    [['Platform', 'Platform', 'PlatformBus']],
    [['Platform', 'Stitch', 'SqsEventSource:ScherpPlatformQueue8BB3F110', 'Resource']],
    [['A'.repeat(150), 'B'.repeat(150)]],
  ])('is the logical ID CDK allocates for %j', (path) => {
    expect(cdkLogicalId(path)).toBe(cdkIdOf(path));
  });
});

function code(): lambda.Code {
  return lambda.Code.fromInline('exports.handler = async () => {}');
}

/** A queue and its consumer, built flat in `platform` or inside a stage. */
function build(staged: boolean): { template: Template; names: string[] } {
  const stack = new Stack(new App(), 'Scherp');
  const platform = new Construct(stack, 'Platform');
  const ingest = staged ? new Construct(platform, 'Ingest') : platform;
  const stitchStage = staged ? new Construct(platform, 'Stitch') : platform;
  const queue = new sqs.Queue(ingest, 'Queue');
  const fn = new lambda.Function(stitchStage, 'Stitch', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: code() });
  fn.addEventSource(new SqsEventSource(queue));
  if (staged) keepPlatformLogicalIds([ingest, stitchStage]);
  const names = [platformResourceName(ingest, 50), Names.uniqueResourceName(platform, { separator: '-', maxLength: 50 })];
  return { template: Template.fromStack(stack), names };
}

describe('keepPlatformLogicalIds', () => {
  test('resources of a stage keep the logical IDs they had as the parent’s children, event-source mappings too', () => {
    const flat = build(false).template.toJSON().Resources;
    const staged = build(true).template.toJSON().Resources;
    expect(Object.keys(staged).sort()).toEqual(Object.keys(flat).sort());
    expect(staged).toEqual(flat);
    expect(Object.keys(flat).some((id) => id.startsWith('PlatformStitchSqsEventSourceScherpPlatformQueue'))).toBe(true);
  });

  test('physical names of a stage are made from the platform’s path, as before', () => {
    const { names } = build(true);
    expect(names[0]).toBe(names[1]);
  });
});
