import { App, type PolicyViolation, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { addNagChecks, nagPacks } from '../../lib/nag-packs';
import { synthScherp, type Synthesized } from './synth';

/**
 * cdk-nag 3 packs are policy-validation plugins: their findings never become annotations, so
 * `Annotations.findError('*', 'AwsSolutions-…')` would pass vacuously. Instead each pack is run
 * directly on the stack (`validateScope`), and the synth in `synthScherp` has the packs
 * registered exactly as `bin/app.ts` does, so any unacknowledged finding would fail it.
 */
let synth: Synthesized;
beforeAll(() => {
  synth = synthScherp();
});

function describeViolations(violations: PolicyViolation[]): string[] {
  return violations.flatMap((v) => v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}`));
}

test.each(nagPacks().map((p) => [p.name, p] as const))('%s: no unacknowledged errors or warnings', (_name, pack) => {
  const report = pack.validateScope(synth.stack);
  expect(describeViolations(report.violations)).toEqual([]);
  expect(report.success).toBe(true);
});

test('synth with the packs registered succeeds (what `cdk synth` runs)', () => {
  // synthScherp registered the packs before Template.fromStack; reaching here means it passed.
  expect(synth.template.toJSON().Resources).toBeDefined();
});

test('no CDK warnings or errors on the stack', () => {
  const annotations = Annotations.fromStack(synth.stack);
  expect(annotations.findError('*', Match.anyValue())).toEqual([]);
  expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
});

test('every acknowledgment carries a real reason', () => {
  const acknowledged = synth.stack.node
    .findAll()
    .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
    .flatMap((m) => Object.entries(m.data as Record<string, string>));
  expect(acknowledged.length).toBeGreaterThan(0);
  for (const [id, reason] of acknowledged) {
    expect(id).toMatch(/(AwsSolutions|Serverless)-/);
    expect(reason.length).toBeGreaterThan(40);
  }
});

test('the checks do fire: an unacknowledged finding fails synth', () => {
  const app = new App();
  const stack = new Stack(app, 'Bad');
  new sqs.Queue(stack, 'PlainQueue');
  addNagChecks(app);
  expect(describeViolations(nagPacks()[0].validateScope(stack).violations)).toContain('error AwsSolutions-SQS4 at Bad/PlainQueue/Resource');
  expect(() => Template.fromStack(stack)).toThrow(/AwsSolutions-SQS4/);
});
