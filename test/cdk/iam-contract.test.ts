/**
 * The IAM contract: every SDK call an adapter makes (`grep -rn 'new [A-Z]\w*Command' adapters/`)
 * is allowed, for the function that makes it, on the resource the service authorizes it on:
 * a schedule's ARN (not its group's), an object's ARN (with the bucket's ListBucket and its
 * prefix condition), the table's ARN with the partition keys the call touches (leading-key
 * conditions), the queue, bus, secret and role each call names. Checked on the synthesized
 * template's policy statements, resources and conditions, not on action names alone.
 *
 * A call made but missing here fails the last test: the list of calls is read from the adapters.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ScherpFunctionName } from '../../lib/scherp-function';
import { RULE_SEEDING_ACTIONS } from '../../lib/rule-seeding';
import { synthScherp, type Synthesized } from './synth';

let synth: Synthesized;
let template: Template;
beforeAll(() => {
  synth = synthScherp(
    { destinations: { email: { from: 'Shop <service@shop.example>', templates: { 'cart-abandoned': 'cart' } } } },
    { nag: false },
  );
  template = synth.template;
});

/** Intrinsics rendered to text: `<Logical.Arn>`, `<Ref:X>`, joins concatenated, anything else as JSON. */
function render(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object') {
    const o = v as Record<string, any>;
    if (o['Fn::GetAtt']) return `<${o['Fn::GetAtt'][0]}.${o['Fn::GetAtt'][1]}>`;
    if (o.Ref) return `<Ref:${o.Ref}>`;
    if (o['Fn::Join']) return (o['Fn::Join'][1] as unknown[]).map(render).join(o['Fn::Join'][0]);
  }
  return JSON.stringify(v);
}

/** IAM's `*` and `?` wildcards. */
function glob(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
  );
  return re.test(value);
}

const id = (c: IConstruct) => Stack.of(c).getLogicalId(c.node.defaultChild as never);
const arn = (c: IConstruct, attr = 'Arn') => `<${id(c)}.${attr}>`;
const ref = (c: IConstruct) => `<Ref:${id(c)}>`;
const partition = '<Ref:AWS::Partition>';

interface Call {
  /** The adapter's command. */
  readonly command: string;
  /** The IAM action the service authorizes the command with. */
  readonly action: string;
  /** The resource ARN the call is authorized on (rendered). */
  readonly resource: () => string;
  /** Condition context of the call: DynamoDB leading keys, S3 prefix. */
  readonly context?: Record<string, string>;
}

/** Statements attached to a role, rendered. */
function statementsOf(roleId: string): { actions: string[]; resources: string[]; conditions: Record<string, Record<string, string[]>> }[] {
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) } });
  return Object.values(policies)
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .filter((s: any) => s.Effect === 'Allow')
    .map((s: any) => ({
      actions: [s.Action].flat(),
      resources: [s.Resource].flat().map(render),
      conditions: Object.fromEntries(
        Object.entries((s.Condition ?? {}) as Record<string, Record<string, unknown>>).map(([op, kv]) => [
          op,
          Object.fromEntries(Object.entries(kv).map(([k, v]) => [k, [v].flat().map(render)])),
        ]),
      ),
    }));
}

/** True when some statement of the role allows the call on its resource with its condition context. */
function allows(roleId: string, call: Call): boolean {
  const resource = call.resource();
  return statementsOf(roleId).some((s) => {
    if (!s.actions.some((a) => glob(a, call.action))) return false;
    if (!s.resources.some((r) => glob(r, resource))) return false;
    return Object.entries(s.conditions).every(([op, kv]) =>
      Object.entries(kv).every(([key, patterns]) => {
        const value = call.context?.[key];
        if (value === undefined) return false;
        if (/StringLike$/.test(op)) return patterns.some((p) => glob(p, value));
        if (/StringEquals$/.test(op)) return patterns.includes(value);
        return false;
      }),
    );
  });
}

const roleOf = (fn: IFunction) => Stack.of(fn).getLogicalId(fn.role!.node.defaultChild as never);

// What each adapter call touches, as the service authorizes it.
const table = () => arn(synth.stack.platform.table);
const item = (command: string, action: string, pk: string): Call => ({
  command,
  action,
  resource: table,
  context: { 'dynamodb:LeadingKeys': pk },
});
/** A Query of the `members` index (an audience's members): authorized on the index's ARN. */
const membersQuery = (pk: string): Call => ({
  command: 'QueryCommand',
  action: 'dynamodb:Query',
  resource: () => `${table()}/index/members`,
  context: { 'dynamodb:LeadingKeys': pk },
});
const queue = (command: string, action: string, q: () => IConstruct): Call => ({ command, action, resource: () => arn(q()) });
const secret = (s: () => IConstruct): Call => ({
  command: 'GetSecretValueCommand',
  action: 'secretsmanager:GetSecretValue',
  resource: () => ref(s()),
});
const p = () => synth.stack.platform;
/** Profile items (P#…) through the profile, personalization, history and computed stores. */
const profileCalls = (cmds: [string, string][]) => cmds.map(([c, a]) => item(c, a, 'P#0b7c1d2e'));

const CONTRACT: Record<ScherpFunctionName | 'email', Call[]> = {
  // The console's page and assets come from its own code: no SDK call at all.
  console: [],
  collect: [
    item('GetCommand', 'dynamodb:GetItem', 'WKEY#ab12'),
    item('BatchWriteCommand', 'dynamodb:BatchWriteItem', 'REJ#2026-11-29'),
    // The debugger: the session marker (cached read) and, while a session is open, its entries.
    item('GetCommand', 'dynamodb:GetItem', 'DBG#SESSION'),
    item('BatchWriteCommand', 'dynamodb:BatchWriteItem', 'DBG#2026-11-29T10'),
    // The Overview's counters: one ADD per request with rejected events.
    item('UpdateCommand', 'dynamodb:UpdateItem', 'STATS#2026-11-29'),
    queue('SendMessageBatchCommand', 'sqs:SendMessage', () => p().queue),
    queue('SendMessageCommand', 'sqs:SendMessage', () => p().queue),
    secret(() => p().secrets.writeKey),
  ],
  stitch: [
    ...profileCalls([
      ['GetCommand', 'dynamodb:GetItem'],
      ['BatchGetCommand', 'dynamodb:BatchGetItem'],
      ['QueryCommand', 'dynamodb:Query'],
      ['PutCommand', 'dynamodb:PutItem'],
      ['TransactWriteCommand', 'dynamodb:PutItem'],
      ['TransactWriteCommand', 'dynamodb:UpdateItem'],
      ['TransactWriteCommand', 'dynamodb:ConditionCheckItem'],
      ['BatchWriteCommand', 'dynamodb:BatchWriteItem'],
    ]),
    item('GetCommand', 'dynamodb:GetItem', 'ID#user_id#42'),
    item('PutCommand', 'dynamodb:PutItem', 'MSG#default#m-1'),
    // An event naming identifiers that did not link there is indexed by their digests.
    item('BatchWriteCommand', 'dynamodb:BatchWriteItem', 'FX#ab12'),
    item('GetCommand', 'dynamodb:GetItem', 'MSG#default#m-1'),
    // The Overview's counters: one ADD per batch per hour (a projected read when an hour is full of names).
    item('UpdateCommand', 'dynamodb:UpdateItem', 'STATS#2026-11-29'),
    item('GetCommand', 'dynamodb:GetItem', 'STATS#2026-11-29'),
    { command: 'PutEventsCommand', action: 'events:PutEvents', resource: () => arn(p().bus) },
    queue('SendMessageCommand', 'sqs:SendMessage', () => p().deadLetterQueue),
  ],
  evaluate: [
    ...profileCalls([
      ['GetCommand', 'dynamodb:GetItem'],
      ['BatchGetCommand', 'dynamodb:BatchGetItem'],
      ['QueryCommand', 'dynamodb:Query'],
      ['UpdateCommand', 'dynamodb:UpdateItem'],
      ['PutCommand', 'dynamodb:PutItem'],
      ['DeleteCommand', 'dynamodb:DeleteItem'],
    ]),
    item('QueryCommand', 'dynamodb:Query', 'RULES'),
    // Audience membership: membership items and counters in one transaction.
    item('TransactWriteCommand', 'dynamodb:PutItem', 'P#0b7c1d2e'),
    item('TransactWriteCommand', 'dynamodb:UpdateItem', 'AUD#vip'),
    item('TransactWriteCommand', 'dynamodb:PutItem', 'DUE#2026-11-29T10:01'),
    // Actions fired per rule: one ADD per stream batch per hour.
    item('UpdateCommand', 'dynamodb:UpdateItem', 'STATS#2026-11-29'),
    // Evaluation failures: noted next to the item, listed by a scan for a replay.
    { command: 'ScanCommand', action: 'dynamodb:Scan', resource: table },
    { command: 'PutEventsCommand', action: 'events:PutEvents', resource: () => arn(p().bus) },
    {
      command: 'CreateScheduleCommand',
      action: 'scheduler:CreateSchedule',
      // Scheduler authorizes on arn:…:schedule/<group>/<name>: a concrete schedule of the group.
      resource: () =>
        `arn:${partition}:scheduler:<Ref:AWS::Region>:<Ref:AWS::AccountId>:schedule/${render(Stack.of(p()).resolve(p().scheduleGroup.scheduleGroupName))}/scherp-0f3a9c`,
    },
    { command: 'CreateScheduleCommand', action: 'iam:PassRole', resource: () => arn(p().schedulerRole) },
  ],
  profile: [
    ...profileCalls([
      ['GetCommand', 'dynamodb:GetItem'],
      ['BatchGetCommand', 'dynamodb:BatchGetItem'],
      ['QueryCommand', 'dynamodb:Query'],
      ['BatchWriteCommand', 'dynamodb:BatchWriteItem'],
    ]),
    item('GetCommand', 'dynamodb:GetItem', 'ID#email#x'),
    item('BatchWriteCommand', 'dynamodb:BatchWriteItem', 'ID#email#x'),
    item('BatchWriteCommand', 'dynamodb:BatchWriteItem', 'SUP#ab12'),
    item('BatchWriteCommand', 'dynamodb:BatchWriteItem', 'REJ#2026-11-29'),
    item('QueryCommand', 'dynamodb:Query', 'REJ#2026-11-29'),
    // Erasure rewrites other profiles' events naming the person without them, found by digest.
    item('QueryCommand', 'dynamodb:Query', 'FX#ab12'),
    item('GetCommand', 'dynamodb:GetItem', 'P#0b7c1d2e'),
    item('PutCommand', 'dynamodb:PutItem', 'P#0b7c1d2e'),
    item('BatchWriteCommand', 'dynamodb:BatchWriteItem', 'FX#ab12'),
    // Erasure takes the person out of every audience: membership items, counts.
    item('TransactWriteCommand', 'dynamodb:PutItem', 'P#0b7c1d2e'),
    item('TransactWriteCommand', 'dynamodb:UpdateItem', 'AUD#vip'),
    // Erasure deletes the debugger entries naming the person.
    item('QueryCommand', 'dynamodb:Query', 'DBG#2026-11-29T10'),
    item('BatchWriteCommand', 'dynamodb:BatchWriteItem', 'DBG#2026-11-29T10'),
    secret(() => p().secrets.readKey),
    secret(() => p().secrets.adminKey),
  ],
  // POST /v1/context: the visitor's identity item (also the placeholder of an invalid id), its
  // profile partitions (also the placeholder `P#none`), the write-key lookup; two secrets.
  context: [
    item('BatchGetCommand', 'dynamodb:BatchGetItem', 'ID#anonymous_id#a-1'),
    item('BatchGetCommand', 'dynamodb:BatchGetItem', 'ID#anonymous_id#'),
    item('QueryCommand', 'dynamodb:Query', 'P#0b7c1d2e'),
    item('QueryCommand', 'dynamodb:Query', 'P#none'),
    item('GetCommand', 'dynamodb:GetItem', 'WKEY#ab12'),
    secret(() => p().secrets.writeKey),
    secret(() => p().secrets.userTokenSecret),
  ],
  admin: [
    item('GetCommand', 'dynamodb:GetItem', 'SOURCES'),
    item('QueryCommand', 'dynamodb:Query', 'SOURCES'),
    item('TransactWriteCommand', 'dynamodb:PutItem', 'SOURCES'),
    item('TransactWriteCommand', 'dynamodb:PutItem', 'WKEY#ab12'),
    item('TransactWriteCommand', 'dynamodb:UpdateItem', 'SOURCES'),
    item('TransactWriteCommand', 'dynamodb:UpdateItem', 'WKEY#ab12'),
    item('TransactWriteCommand', 'dynamodb:ConditionCheckItem', 'SOURCES'),
    item('QueryCommand', 'dynamodb:Query', 'REJ#2026-11-29'),
    queue('ReceiveMessageCommand', 'sqs:ReceiveMessage', () => p().deadLetterQueue),
    queue('ChangeMessageVisibilityBatchCommand', 'sqs:ChangeMessageVisibility', () => p().deadLetterQueue),
    queue('DeleteMessageCommand', 'sqs:DeleteMessage', () => p().deadLetterQueue),
    queue('StartMessageMoveTaskCommand', 'sqs:StartMessageMoveTask', () => p().deadLetterQueue),
    queue('SendMessageCommand', 'sqs:SendMessage', () => p().queue),
    secret(() => p().secrets.adminKey),
  ],
  rules: [
    item('QueryCommand', 'dynamodb:Query', 'RULES'),
    item('GetCommand', 'dynamodb:GetItem', 'RULES'),
    item('PutCommand', 'dynamodb:PutItem', 'RULES'),
    item('DeleteCommand', 'dynamodb:DeleteItem', 'RULES'),
    ...profileCalls([
      ['GetCommand', 'dynamodb:GetItem'],
      ['BatchGetCommand', 'dynamodb:BatchGetItem'],
      ['QueryCommand', 'dynamodb:Query'],
    ]),
    item('GetCommand', 'dynamodb:GetItem', 'ID#user_id#42'),
    // The evaluation-failure markers of GET /v1/health are found with a scan.
    { command: 'ScanCommand', action: 'dynamodb:Scan', resource: table },
    // GET /v1/health: the depth of every queue it reports (and the evaluation-failure markers: the scan above).
    queue('GetQueueAttributesCommand', 'sqs:GetQueueAttributes', () => p().queue),
    queue('GetQueueAttributesCommand', 'sqs:GetQueueAttributes', () => p().deadLetterQueue),
    queue('GetQueueAttributesCommand', 'sqs:GetQueueAttributes', () => p().streamFailureQueue),
    queue('GetQueueAttributesCommand', 'sqs:GetQueueAttributes', () => p().delayedActionsDeadLetterQueue),
    secret(() => p().secrets.adminKey),
    // Audiences: counters, members, exports (read key too); jobs: listing, items, the lock.
    item('QueryCommand', 'dynamodb:Query', 'AUD#vip'),
    membersQuery('AUD#vip#M#3'),
    item('QueryCommand', 'dynamodb:Query', 'JOB#job_1'),
    item('QueryCommand', 'dynamodb:Query', 'JOBS'),
    item('GetCommand', 'dynamodb:GetItem', 'JOBLOCK#audience:vip'),
    item('TransactWriteCommand', 'dynamodb:PutItem', 'JOBLOCK#audience:vip'),
    item('TransactWriteCommand', 'dynamodb:PutItem', 'JOB#job_1'),
    item('TransactWriteCommand', 'dynamodb:PutItem', 'JOBS'),
    item('TransactWriteCommand', 'dynamodb:DeleteItem', 'JOBLOCK#audience:vip'),
    secret(() => p().secrets.readKey),
    // Storing an audience starts its backfill, a backtest or an export is a job: `Job Started` on the jobs bus.
    { command: 'PutEventsCommand', action: 'events:PutEvents', resource: () => arn(p().jobs.jobsBus) },
    // GET /v1/jobs/{id}/files/{n}: an export job's file (a missing one is a 404 with ListBucket on the prefix).
    { command: 'GetObjectCommand', action: 's3:GetObject', resource: () => `${arn(p().jobs.bucket)}/exports/job_1/0003-00000.csv` },
    {
      command: 'GetObjectCommand',
      action: 's3:ListBucket',
      resource: () => arn(p().jobs.bucket),
      context: { 's3:prefix': 'exports/job_1/0003-00000.csv' },
    },
  ],
  // The jobs state machine's worker: scans segments, backfills membership, checkpoints, publishes.
  jobs: [
    { command: 'ScanCommand', action: 'dynamodb:Scan', resource: table },
    ...profileCalls([
      ['GetCommand', 'dynamodb:GetItem'],
      ['BatchGetCommand', 'dynamodb:BatchGetItem'],
      ['QueryCommand', 'dynamodb:Query'],
      ['TransactWriteCommand', 'dynamodb:PutItem'],
    ]),
    item('QueryCommand', 'dynamodb:Query', 'RULES'),
    item('GetCommand', 'dynamodb:GetItem', 'RULES'),
    // A split's final settle pass (due sweep): events moved, computed traits and the announcement put.
    item('BatchWriteCommand', 'dynamodb:BatchWriteItem', 'P#0b7c1d2e'),
    item('PutCommand', 'dynamodb:PutItem', 'P#0b7c1d2e'),
    item('TransactWriteCommand', 'dynamodb:UpdateItem', 'AUD#vip'),
    item('PutCommand', 'dynamodb:PutItem', 'JOB#job_1'),
    item('QueryCommand', 'dynamodb:Query', 'JOB#job_1'),
    item('TransactWriteCommand', 'dynamodb:PutItem', 'JOB#job_1'),
    item('TransactWriteCommand', 'dynamodb:DeleteItem', 'JOBLOCK#audience:vip'),
    // Before each page: is the job still running (its status alone).
    item('GetCommand', 'dynamodb:GetItem', 'JOB#job_1'),
    { command: 'PutEventsCommand', action: 'events:PutEvents', resource: () => arn(p().bus) },
    // Exports: a shard of an audience's members, their roots, one file per page under exports/.
    membersQuery('AUD#vip#M#3'),
    { command: 'PutObjectCommand', action: 's3:PutObject', resource: () => `${arn(p().jobs.bucket)}/exports/job_1/0003-00000.csv` },
    // The every-minute sweep of due memberships (time-based exits).
    item('GetCommand', 'dynamodb:GetItem', 'DUE#SWEEP'),
    item('PutCommand', 'dynamodb:PutItem', 'DUE#SWEEP'),
    item('QueryCommand', 'dynamodb:Query', 'DUE#2026-11-29T10:01'),
    item('PutCommand', 'dynamodb:PutItem', 'DUE#2026-11-29T10:01'),
    item('DeleteCommand', 'dynamodb:DeleteItem', 'DUE#2026-11-29T10:01'),
    // The computed-trait recompute: started at deploy (its lock, job and listing), each profile's part
    // written conditional on its root, the digests read and stored.
    item('GetCommand', 'dynamodb:GetItem', 'JOBLOCK#computed'),
    item('TransactWriteCommand', 'dynamodb:PutItem', 'JOBLOCK#computed'),
    item('TransactWriteCommand', 'dynamodb:PutItem', 'JOBS'),
    item('TransactWriteCommand', 'dynamodb:DeleteItem', 'JOBLOCK#computed'),
    item('TransactWriteCommand', 'dynamodb:ConditionCheckItem', 'P#0b7c1d2e'),
    item('GetCommand', 'dynamodb:GetItem', 'COMPUTED#DEFS'),
    item('PutCommand', 'dynamodb:PutItem', 'COMPUTED#DEFS'),
  ],
  import: [
    item('GetCommand', 'dynamodb:GetItem', 'SOURCES'),
    item('QueryCommand', 'dynamodb:Query', 'SOURCES'),
    queue('SendMessageBatchCommand', 'sqs:SendMessage', () => p().queue),
    secret(() => p().secrets.adminKey),
  ],
  fileImport: [
    item('GetCommand', 'dynamodb:GetItem', 'SOURCES'),
    item('QueryCommand', 'dynamodb:Query', 'SOURCES'),
    { command: 'GetObjectCommand', action: 's3:GetObject', resource: () => `${arn(p().fileImport.bucket)}/imports/crm/people.csv` },
    { command: 'HeadObjectCommand', action: 's3:GetObject', resource: () => `${arn(p().fileImport.bucket)}/imports/crm/people.csv` },
    // A missing key is a 404 only with ListBucket on the prefix (else S3 answers 403).
    {
      command: 'GetObjectCommand',
      action: 's3:ListBucket',
      resource: () => arn(p().fileImport.bucket),
      context: { 's3:prefix': 'imports/crm/people.csv' },
    },
    { command: 'PutObjectCommand', action: 's3:PutObject', resource: () => `${arn(p().fileImport.bucket)}/reports/crm/people.csv.json` },
    queue('SendMessageCommand', 'sqs:SendMessage', () => p().fileImport.queue),
    queue('SendMessageBatchCommand', 'sqs:SendMessage', () => p().queue),
  ],
  // Identity admin: a split's reads, transaction (roots, repointed identity items, its record), event
  // moves, the settled announcement and computed traits, a release; lifting a suppression.
  identity: [
    ...profileCalls([
      ['GetCommand', 'dynamodb:GetItem'],
      ['BatchGetCommand', 'dynamodb:BatchGetItem'],
      ['QueryCommand', 'dynamodb:Query'],
      ['PutCommand', 'dynamodb:PutItem'],
      ['TransactWriteCommand', 'dynamodb:PutItem'],
      ['BatchWriteCommand', 'dynamodb:BatchWriteItem'],
    ]),
    item('BatchGetCommand', 'dynamodb:BatchGetItem', 'ID#email#x'),
    item('GetCommand', 'dynamodb:GetItem', 'ID#email#x'),
    item('TransactWriteCommand', 'dynamodb:UpdateItem', 'ID#email#x'),
    item('TransactWriteCommand', 'dynamodb:DeleteItem', 'SUP#ab12'),
    item('TransactWriteCommand', 'dynamodb:PutItem', 'SUP#ab12'),
    // A split files its final settle pass in the due index.
    item('PutCommand', 'dynamodb:PutItem', 'DUE#2026-11-29T10:31'),
    secret(() => p().secrets.adminKey),
  ],
  insights: [
    item('GetCommand', 'dynamodb:GetItem', 'DBG#SESSION'),
    item('PutCommand', 'dynamodb:PutItem', 'DBG#SESSION'),
    item('QueryCommand', 'dynamodb:Query', 'DBG#2026-11-29T10'),
    item('QueryCommand', 'dynamodb:Query', 'STATS#2026-11-29'),
    secret(() => p().secrets.readKey),
    secret(() => p().secrets.adminKey),
  ],
  email: [
    {
      command: 'SendEmailCommand',
      action: 'ses:SendEmail',
      resource: () => 'arn:aws:ses:eu-west-1:123456789012:identity/shop.example',
      context: { 'ses:FromAddress': 'service@shop.example' },
    },
  ],
};

const fnOf = (name: ScherpFunctionName | 'email'): IFunction => (name === 'email' ? p().destinations!.emailFunction! : p().functions[name]);

describe('every adapter call is granted to the function that makes it, on the resource it is authorized on', () => {
  const cases = Object.entries(CONTRACT).flatMap(([fn, calls]) => calls.map((c) => [fn as ScherpFunctionName | 'email', c] as const));
  test.each(cases.map(([fn, c]) => [fn, c.command, c.action, c] as const))('%s: %s needs %s', (fn, _cmd, _action, call) => {
    expect(allows(roleOf(fnOf(fn)), call)).toBe(true);
  });
});

describe('and nothing broader where it matters', () => {
  test('CreateSchedule is not granted on the schedule group (Scheduler would refuse it there), and on no other group', () => {
    const group = `arn:${partition}:scheduler:<Ref:AWS::Region>:<Ref:AWS::AccountId>:schedule-group/${render(Stack.of(p()).resolve(p().scheduleGroup.scheduleGroupName))}`;
    const onGroup = { command: 'CreateScheduleCommand', action: 'scheduler:CreateSchedule', resource: () => group };
    const otherGroup = {
      command: 'CreateScheduleCommand',
      action: 'scheduler:CreateSchedule',
      resource: () => `arn:${partition}:scheduler:<Ref:AWS::Region>:<Ref:AWS::AccountId>:schedule/other/scherp-1`,
    };
    const allowsOnGroup = statementsOf(roleOf(p().functions.evaluate)).some(
      (s) => s.actions.includes('scheduler:CreateSchedule') && s.resources.some((r) => glob(r, onGroup.resource())),
    );
    expect(allowsOnGroup).toBe(false);
    expect(allows(roleOf(p().functions.evaluate), otherGroup)).toBe(false);
  });

  test.each([
    ['collect', item('GetCommand', 'dynamodb:GetItem', 'P#0b7c1d2e')],
    ['collect', item('BatchWriteCommand', 'dynamodb:BatchWriteItem', 'SOURCES')],
    ['admin', item('GetCommand', 'dynamodb:GetItem', 'P#0b7c1d2e')],
    ['import', item('PutCommand', 'dynamodb:PutItem', 'SOURCES')],
    ['profile', item('BatchWriteCommand', 'dynamodb:BatchWriteItem', 'RULES')],
    ['context', item('GetCommand', 'dynamodb:GetItem', 'SOURCES')],
    ['context', item('QueryCommand', 'dynamodb:Query', 'REJ#2026-11-29')],
    ['context', item('QueryCommand', 'dynamodb:Query', 'RULES')],
    ['context', item('BatchGetCommand', 'dynamodb:BatchGetItem', 'SUP#ab12')],
    ['insights', item('QueryCommand', 'dynamodb:Query', 'P#0b7c1d2e')],
    ['insights', item('PutCommand', 'dynamodb:PutItem', 'RULES')],
    ['insights', item('PutCommand', 'dynamodb:PutItem', 'STATS#2026-11-29')],
    ['collect', item('UpdateCommand', 'dynamodb:UpdateItem', 'P#0b7c1d2e')],
  ] as const)('%s may not make %s outside its leading keys', (fn, call) => {
    expect(allows(roleOf(p().functions[fn]), call)).toBe(false);
  });

  // The public route's role (its key is in page source) erases nothing and reads no other key.
  test.each([
    item('BatchWriteCommand', 'dynamodb:BatchWriteItem', 'P#0b7c1d2e'),
    item('BatchWriteCommand', 'dynamodb:BatchWriteItem', 'ID#email#x'),
    item('DeleteCommand', 'dynamodb:DeleteItem', 'P#0b7c1d2e'),
    item('PutCommand', 'dynamodb:PutItem', 'P#0b7c1d2e'),
    item('UpdateCommand', 'dynamodb:UpdateItem', 'WKEY#ab12'),
    { command: 'ScanCommand', action: 'dynamodb:Scan', resource: table },
    secret(() => p().secrets.readKey),
    secret(() => p().secrets.adminKey),
  ])('context may not make $command with $action', (call) => {
    expect(allows(roleOf(p().functions.context), call)).toBe(false);
  });

  test('profile no longer reads the write key or the user-token secret', () => {
    expect(
      allows(
        roleOf(p().functions.profile),
        secret(() => p().secrets.writeKey),
      ),
    ).toBe(false);
    expect(
      allows(
        roleOf(p().functions.profile),
        secret(() => p().secrets.userTokenSecret),
      ),
    ).toBe(false);
  });

  test('fileImport may not read reports/ or write imports/, and may list only imports/', () => {
    const bucket = () => arn(p().fileImport.bucket);
    const role = roleOf(p().functions.fileImport);
    expect(allows(role, { command: 'GetObjectCommand', action: 's3:GetObject', resource: () => `${bucket()}/reports/crm/x.json` })).toBe(
      false,
    );
    expect(allows(role, { command: 'PutObjectCommand', action: 's3:PutObject', resource: () => `${bucket()}/imports/crm/x.csv` })).toBe(
      false,
    );
    expect(
      allows(role, { command: 'GetObjectCommand', action: 's3:ListBucket', resource: bucket, context: { 's3:prefix': 'reports/' } }),
    ).toBe(false);
  });

  // The jobs worker: its partitions only (no identity items, sources, keys, suppressions, rules written); batch
  // writes only in profile partitions (a split's final settle pass moves events).
  test.each([
    item('GetCommand', 'dynamodb:GetItem', 'ID#email#x'),
    item('QueryCommand', 'dynamodb:Query', 'SOURCES'),
    item('GetCommand', 'dynamodb:GetItem', 'WKEY#ab12'),
    item('PutCommand', 'dynamodb:PutItem', 'RULES'),
    item('DeleteCommand', 'dynamodb:DeleteItem', 'P#0b7c1d2e'),
    item('UpdateCommand', 'dynamodb:UpdateItem', 'P#0b7c1d2e'),
    item('BatchWriteCommand', 'dynamodb:BatchWriteItem', 'ID#email#x'),
    item('BatchWriteCommand', 'dynamodb:BatchWriteItem', 'AUD#vip#M#3'),
    item('PutCommand', 'dynamodb:PutItem', 'SUP#ab12'),
    item('PutCommand', 'dynamodb:PutItem', 'JOBLOCK#audience:vip'),
    item('QueryCommand', 'dynamodb:Query', 'REJ#2026-11-29'),
    { command: 'GetObjectCommand', action: 's3:GetObject', resource: () => `${arn(p().jobs.bucket)}/exports/job_1/0003-00000.csv` },
    { command: 'PutObjectCommand', action: 's3:PutObject', resource: () => `${arn(p().jobs.bucket)}/other/x` },
  ])('jobs may not make $command with $action on $context', (call) => {
    expect(allows(roleOf(p().functions.jobs), call)).toBe(false);
  });

  test('the rules function reads export files only, and writes none', () => {
    const role = roleOf(p().functions.rules);
    const bucket = () => arn(p().jobs.bucket);
    expect(allows(role, { command: 'PutObjectCommand', action: 's3:PutObject', resource: () => `${bucket()}/exports/job_1/x.csv` })).toBe(
      false,
    );
    expect(allows(role, { command: 'GetObjectCommand', action: 's3:GetObject', resource: () => `${bucket()}/other/x` })).toBe(false);
  });

  test('rule seeding: the provider role may put and delete items on the table only', () => {
    const [, provider] = Object.entries(template.findResources('AWS::Lambda::Function')).find(([k]) =>
      k.startsWith('AWS679f53fac002430cb0da5b7982bd2287'),
    )!;
    const role = provider.Properties.Role['Fn::GetAtt'][0];
    for (const action of RULE_SEEDING_ACTIONS) expect(allows(role, { command: 'AwsCustomResource', action, resource: table })).toBe(true);
    expect(statementsOf(role).flatMap((s) => s.resources)).toEqual([table()]);
  });
});

test('the contract covers every command an adapter sends', () => {
  const adapters = path.join(__dirname, '../../adapters');
  const files = fs
    .readdirSync(adapters, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts'));
  const sent = new Set(
    files.flatMap((f) => [...fs.readFileSync(path.join(adapters, f), 'utf8').matchAll(/new ([A-Z][A-Za-z]+Command)\(/g)].map((m) => m[1]!)),
  );
  const covered = new Set(Object.values(CONTRACT).flatMap((calls) => calls.map((c) => c.command)));
  expect([...sent].filter((c) => !covered.has(c)).sort()).toEqual([]);
});
