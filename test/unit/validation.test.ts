/**
 * The one zod error formatter (core/validation.ts) over every schema a user reaches: each issue
 * names the path and, for unions and enums, the allowed values, never a bare `Invalid input`.
 */
import fc from 'fast-check';
import { ConfigError, parseConfig } from '../../core/config';
import { IncomingEventSchema, zodIssues } from '../../core/events';
import { ingest } from '../../core/ingest';
import { parseImport } from '../../core/import';
import { ValidationError } from '../../core/errors';
import { parseDefinition, parseDefinitionAt } from '../../core/rules/engine';
import { BacktestBodySchema, DryRunBodySchema, OPERATORS } from '../../core/rules/schema';
import { NewSourceSchema } from '../../core/sources';
import { RedriveRequestSchema } from '../../core/dead-letters';
import { ContextRequestSchema } from '../../core/context';
import { parseInput } from '../../core/validation';

const rule = (over: Record<string, unknown>) => ({
  id: 'r',
  name: 'R',
  trigger: { events: ['E'] },
  actions: [{ type: 'emit', action: 'a' }],
  ...over,
});

function issuesOf(f: () => unknown): { path: string; message: string }[] {
  try {
    f();
  } catch (err) {
    if (err instanceof ValidationError) return err.issues;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('rules and audiences', () => {
  it('an unknown operator names condition.all[0].op and lists the operators', () => {
    const issues = issuesOf(() => parseDefinition(rule({ condition: { all: [{ path: 'event.properties.x', op: 'bogus', value: 1 }] } })));
    expect(issues).toEqual([{ path: 'condition.all[0].op', message: `must be one of ${OPERATORS.join(', ')}` }]);
  });

  it('the message of the error names them too', () => {
    expect(() => parseDefinition(rule({ condition: { all: [{ path: 'event.x', op: 'bogus', value: 1 }] } }))).toThrow(
      /invalid rule: condition\.all\[0\]\.op must be one of eq, neq/,
    );
  });

  it('follows nested any / not / history down to the fault', () => {
    const issues = issuesOf(() =>
      parseDefinition(
        rule({
          condition: {
            any: [
              { not: { path: 'event.x', op: 'eq' } },
              { history: { event: 'E', within: '1y', atLeast: 1 } },
              { history: { event: 'E', within: '1d', atLeast: 1, where: { all: [{ path: 'event.y', op: 'nope', value: 1 }] } } },
            ],
          },
        }),
      ),
    );
    expect(issues).toEqual([
      { path: 'condition.any[0].not.value', message: 'value is required for this operator' },
      { path: 'condition.any[1].history.within', message: 'must be a duration like 30s, 15m, 1h or 7d' },
      { path: 'condition.any[2].history.where.all[0].op', message: `must be one of ${OPERATORS.join(', ')}` },
    ]);
  });

  it('an input of no condition shape lists the shapes', () => {
    const issues = issuesOf(() => parseDefinition(rule({ condition: { all: [{ foo: 1 }, 5] } })));
    expect(issues.map((i) => i.path)).toEqual(['condition.all[0]', 'condition.all[1]']);
    for (const i of issues) expect(i.message).toMatch(/"all".*"any".*"not".*"history".*"path", "op", "value"/);
  });

  it('an unknown action type lists the action types; a known one reports its own field', () => {
    const issues = issuesOf(() =>
      parseDefinition(
        rule({ actions: [{ type: 'sms' }, { type: 'emit', action: 'a', target: 'fax' }, { type: 'emit', action: 'a', data: { x: 5 } }] }),
      ),
    );
    expect(issues).toEqual([
      { path: 'actions[0].type', message: 'must be one of emit, trait, audience, recommend' },
      { path: 'actions[1].target', message: 'must be one of email, ads, webhook' },
      { path: 'actions[2].data.x', message: expect.stringMatching(/^must be a path .* or \{"value": literal\}$/) },
    ]);
  });

  it('audiences and trigger types name their paths and values', () => {
    expect(
      issuesOf(() => parseDefinition({ kind: 'audience', id: 'a', name: 'A', condition: { path: 'profile.x', op: 'is', value: 1 } })),
    ).toEqual([{ path: 'condition.op', message: `must be one of ${OPERATORS.join(', ')}` }]);
    expect(issuesOf(() => parseDefinition(rule({ trigger: { types: ['trak'] } })))).toEqual([
      { path: 'trigger.types[0]', message: 'must be one of track, identify, page, screen, group, alias' },
    ]);
    expect(issuesOf(() => parseDefinition(rule({ colour: 'red' })))).toEqual([{ path: 'colour', message: 'is not a known field' }]);
  });

  it('an inline rule of a dry run reports under rule.', () => {
    expect(issuesOf(() => parseDefinitionAt(rule({ condition: { path: 'event.x', op: 'bogus', value: 1 } }), 'rule'))).toEqual([
      { path: 'rule.condition.op', message: `must be one of ${OPERATORS.join(', ')}` },
    ]);
  });

  it('property: whatever unknown operator, the path and every operator are named', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 20 }).filter((s) => !(OPERATORS as readonly string[]).includes(s)),
        fc.integer({ min: 0, max: 3 }),
        (op, depth) => {
          let cond: unknown = { path: 'event.properties.x', op, value: 1 };
          let path = 'condition';
          const wrap: string[] = [];
          for (let i = 0; i < depth; i++) {
            cond = i % 2 === 0 ? { all: [{ path: 'event.a', op: 'exists' }, cond] } : { not: cond };
            wrap.unshift(i % 2 === 0 ? '.all[1]' : '.not');
          }
          path += `${wrap.join('')}.op`;
          const issues = issuesOf(() => parseDefinition(rule({ condition: cond })));
          expect(issues).toEqual([{ path, message: `must be one of ${OPERATORS.join(', ')}` }]);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('events', () => {
  it('an unknown type, an id of the wrong type and a bad timestamp name field and alternatives', () => {
    const r = IncomingEventSchema.safeParse({ type: 'trak', userId: {}, timestamp: true });
    expect(zodIssues(r.error!)).toEqual([
      { path: 'type', message: 'must be one of track, identify, page, screen, group, alias' },
      { path: 'userId', message: 'must be a string or a number (received object)' },
      { path: 'timestamp', message: 'must be a string or a number (received boolean)' },
    ]);
  });

  it('batch items are named by index', () => {
    const out = ingest({
      route: 'batch',
      body: {
        batch: [
          { type: 'track', userId: 'u', event: 'E' },
          { type: 'identify', userId: ['x'] },
        ],
      },
      receivedAt: new Date(),
      sourceId: 's',
      newMessageId: () => 'm',
    });
    expect(out.rejected).toEqual([
      { index: 1, issues: [{ path: 'batch[1].userId', message: 'must be a string or a number (received array)' }] },
    ]);
  });
});

describe('configuration', () => {
  const configError = (input: unknown) => {
    try {
      parseConfig(input);
    } catch (err) {
      if (err instanceof ConfigError) return err.message;
      throw err;
    }
    throw new Error('expected a ConfigError');
  };

  it('names the path and the allowed values of unions and enums', () => {
    const m = configError({
      identity: { types: { email: { format: 'mail' }, crm: 3, Bad: { from: ['x'] } } },
      computed: { a: 'x', b: { op: 'median', property: 'properties.x' } },
      typo: 1,
    });
    expect(m).toContain('identity.types.email.format: must be one of text, email, phone');
    expect(m).toContain('identity.types.crm: must be an object or false (received number)');
    expect(m).toContain('identity.types.Bad: (the key) identifier types are 1-40 characters');
    expect(m).toContain('computed.a: must be an object or false (received string)');
    expect(m).toMatch(/computed\.b\.op: must be one of count, sum, .*unique/);
    expect(m).toContain('typo: is not a known field');
  });

  it('an unknown priority type lists the known types', () => {
    expect(configError({ identity: { priority: ['nope'] } })).toContain(
      'identity.priority[0]: unknown identifier type "nope"; one of user_id, email, phone',
    );
  });
});

describe('admin bodies', () => {
  it('sources: the party lists the parties', () => {
    expect(issuesOf(() => parseInput(NewSourceSchema, { name: 'POS', party: 'fourth' }, 'source'))).toEqual([
      { path: 'party', message: 'must be one of first, second, third' },
    ]);
  });

  it('dry run and backtest bodies name their fields', () => {
    expect(issuesOf(() => parseInput(DryRunBodySchema, { event: 'x', profile: 5 }, 'dry run request'))).toEqual([
      { path: 'event', message: 'must be an object (received string)' },
      { path: 'profile', message: 'must be a string (received number)' },
    ]);
    expect(issuesOf(() => parseInput(BacktestBodySchema, { from: 'a', to: 'b', segments: 0.5 }, 'backtest request'))).toEqual([
      { path: 'segments', message: 'must be an integer (received number)' },
    ]);
  });

  it('redrive and context requests name their fields', () => {
    expect(zodIssues(RedriveRequestSchema.safeParse({ ids: [1] }).error!)).toEqual([
      { path: 'ids[0]', message: 'must be a string (received number)' },
    ]);
    expect(zodIssues(ContextRequestSchema.safeParse({ anonymousId: 7 }).error!)).toEqual([
      { path: 'anonymousId', message: 'must be a string (received number)' },
    ]);
  });

  it('import rows of an unknown identifier type list the known types', () => {
    const { errors } = parseImport(JSON.stringify({ id: 'shoe:42', traits: { a: 1 } }), 'ndjson', {
      sourceId: 's',
      receivedAt: '2026-01-01T00:00:00.000Z',
      identity: parseConfig(undefined).identity,
    });
    expect(errors).toEqual([
      { line: 1, reason: 'unknown identifier type "shoe"; one of user_id, email, phone, anonymous_id, device_id, advertising_id' },
    ]);
  });
});
