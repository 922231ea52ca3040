/**
 * The deploy-time recompute of computed traits (lib/computed-recompute.ts): a custom resource
 * served by the jobs worker, whose Digest follows the computed-trait definitions deployed, made
 * after evaluate and the jobs state machine; the worker may start the job (PutEvents on the jobs bus)
 * and knows the event retention.
 */
import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { definitionDigests, digestOf } from '../../core/computed-recompute';
import { parseConfig } from '../../core/config';
import { actionsOf, functionProps, synthScherp, type Synthesized } from './synth';

const logicalId = (c: IConstruct) => Stack.of(c).getLogicalId(c.node.defaultChild as never);
const resourcesOf = (s: Synthesized) => Object.entries(s.template.findResources('Custom::ScherpComputedRecompute'));

const withTrait = { computed: { coupon_orders: { op: 'count' as const, event: 'Order Completed' } } };
let plain: Synthesized;
let changed: Synthesized;
beforeAll(() => {
  plain = synthScherp({}, { nag: false });
  changed = synthScherp({ config: withTrait, eventRetentionDays: 90 }, { nag: false });
});

test('one custom resource, served by the jobs worker, its Digest that of the deployed definitions', () => {
  const [[, res]] = resourcesOf(plain) as [[string, any]];
  expect(res.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [logicalId(plain.stack.platform.jobs.worker), 'Arn'] });
  expect(res.Properties.Digest).toBe(digestOf(definitionDigests(parseConfig(undefined).computed)));
  const [[, other]] = resourcesOf(changed) as [[string, any]];
  expect(other.Properties.Digest).toBe(digestOf(definitionDigests(parseConfig(withTrait).computed)));
  expect(other.Properties.Digest).not.toBe(res.Properties.Digest);
  // The same definitions give the same digest: a deploy without a change sends no Update.
  expect((resourcesOf(synthScherp({}, { nag: false }))[0]![1] as any).Properties.Digest).toBe(res.Properties.Digest);
});

test('made after evaluate (it runs the new definitions) and the jobs state machine', () => {
  const [[, res]] = resourcesOf(plain) as [[string, any]];
  const p = plain.stack.platform;
  expect(res.DependsOn).toEqual(expect.arrayContaining([logicalId(p.functions.evaluate), logicalId(p.jobs.stateMachine)]));
});

test('the worker may put Job Started on the jobs bus (to start the job), and knows the event retention', () => {
  const p = changed.stack.platform;
  const env = functionProps(changed, p.jobs.worker).Environment.Variables;
  expect(env.EVENT_RETENTION_DAYS).toBe('90');
  expect(env.JOBS_BUS_NAME).toEqual({ Ref: logicalId(p.jobs.jobsBus) });
  const { actions, resources } = actionsOf(changed, p.jobs.worker);
  expect(actions).toContain('events:PutEvents');
  expect(resources).toContainEqual({ 'Fn::GetAtt': [logicalId(p.jobs.jobsBus), 'Arn'] });
});
