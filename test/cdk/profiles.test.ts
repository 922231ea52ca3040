import { Match, type Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { actionsOf, leadingKeysOf, synthScherp, type Synthesized } from './synth';

let synth: Synthesized;
let template: Template;
beforeAll(() => {
  synth = synthScherp();
  template = synth.template;
});

describe('least privilege', () => {
  test('profile: table reads, and for erasure batch writes on profile, identity, suppression, rejected-event, debugger and foreign-mention items only; the keys', () => {
    const { actions } = actionsOf(synth, synth.stack.platform.functions.profile);
    for (const forbidden of ['sqs:SendMessage', 'events:PutEvents']) expect(actions).not.toContain(forbidden);
    // Single-item writes only where erasure takes the person out of every audience: PutItem on
    // profile items (membership items), UpdateItem on audience items (counts); no DeleteItem.
    const profileRole = synth.stack.getLogicalId(
      (synth.stack.platform.functions.profile.role as iam.Role).node.defaultChild as iam.CfnRole,
    );
    const single = Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: profileRole }]) } }),
    )
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((st: any) =>
        [st.Action].flat().some((a: string) => ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'].includes(a)),
      );
    expect(
      single.map((st: any) => [[st.Action].flat().sort(), st.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys']]),
    ).toEqual([
      [['dynamodb:PutItem'], ['P#*']],
      [['dynamodb:UpdateItem'], ['AUD#*']],
    ]);
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem', 'secretsmanager:GetSecretValue']),
    );
    // The read statements have no leading-key limit; the only write statement is limited to the person's items.
    const fn = synth.stack.platform.functions.profile;
    const roleId = synth.stack.getLogicalId((fn.role as iam.Role).node.defaultChild as iam.CfnRole);
    const writeStatements = Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) } }),
    )
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((st: any) => [st.Action].flat().includes('dynamodb:BatchWriteItem'));
    expect(
      writeStatements.map((st: any) => [[st.Action].flat(), st.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys']]),
    ).toEqual([[['dynamodb:BatchWriteItem'], ['P#*', 'ID#*#*', 'SUP#*', 'REJ#*', 'DBG#*', 'FX#*']]]);
    expect(leadingKeysOf(synth, fn).filter((k) => k !== undefined)).toEqual([
      ['P#*', 'ID#*#*', 'SUP#*', 'REJ#*', 'DBG#*', 'FX#*'],
      ['P#*'],
      ['AUD#*'],
    ]);
  });

  test('context (public write key): identity, profile and write-key reads only (leading keys), the write key and user-token secrets; no writes, no read or admin key', () => {
    const fn = synth.stack.platform.functions.context;
    const { actions, resources } = actionsOf(synth, fn);
    expect(actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:Query',
    ]);
    expect(leadingKeysOf(synth, fn)).toEqual([['ID#*#*'], ['P#*'], ['WKEY#*']]);
    for (const forbidden of ['sqs:SendMessage', 'events:PutEvents', 's3:GetObject']) expect(actions).not.toContain(forbidden);
    const secretRefs = resources
      .filter((r: any) => r && typeof r === 'object' && 'Ref' in r)
      .map((r: any) => r.Ref)
      .sort();
    const { secrets } = synth.stack.platform;
    const idOf = (c: IConstruct) => synth.stack.getLogicalId(c.node.defaultChild as never);
    expect(secretRefs).toEqual([idOf(secrets.writeKey), idOf(secrets.userTokenSecret)].sort());
  });

  test('profile no longer reads the write key or the user-token secret (context serves the public route)', () => {
    const { resources } = actionsOf(synth, synth.stack.platform.functions.profile);
    const { secrets } = synth.stack.platform;
    const refs = JSON.stringify(resources);
    const idOf = (c: IConstruct) => synth.stack.getLogicalId(c.node.defaultChild as never);
    expect(refs).not.toContain(`"${idOf(secrets.writeKey)}"`);
    expect(refs).not.toContain(`"${idOf(secrets.userTokenSecret)}"`);
    expect(refs).toContain(`"${idOf(secrets.readKey)}"`);
  });

  /** The dynamodb:LeadingKeys a function's table statements are limited to (undefined: unlimited). */
});
