/**
 * The published JSON Schemas in `schemas/bus/` are exactly what the contract's zod schemas
 * generate (regenerate with `SCHERP_WRITE_SCHEMAS=1 npx jest test/unit/bus-contract.test.ts`),
 * and what Scherp emits parses with them.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { actionTriggered, audienceChanged, busJsonSchemas, DETAIL_SCHEMAS } from '../../core/rules/contract';
import { mergeBusEntries } from '../../app/merges';

const dir = join(__dirname, '../../schemas/bus');

test('schemas/bus holds the generated JSON Schemas, one per detail-type', () => {
  const generated = busJsonSchemas();
  if (process.env.SCHERP_WRITE_SCHEMAS === '1') {
    for (const [file, schema] of Object.entries(generated)) writeFileSync(join(dir, file), `${JSON.stringify(schema, null, 2)}\n`);
  }
  expect(
    readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort(),
  ).toEqual(Object.keys(generated).sort());
  for (const [file, schema] of Object.entries(generated)) {
    expect(existsSync(join(dir, file))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, file), 'utf8'))).toEqual(schema);
  }
});

test('emitted events follow the contract', () => {
  const base = {
    profileId: 'p',
    trigger: { messageId: 'm', event: 'E', timestamp: '2026-01-01T00:00:00.000Z' },
    dedupeId: 'd',
    person: { userId: 'u', email: 'a@b.co', phone: '+31612345678' },
    at: '2026-01-01T00:00:01.000Z',
  };
  const trace = [{ path: 'event.x', op: 'eq', expected: 1, actual: 1, result: true }];
  const events = [
    actionTriggered({ ...base, ruleId: 'r', action: 'a', target: 'ads', data: { x: 1 }, trace }),
    actionTriggered({ ...base, ruleId: 'r', action: 'a', target: 'email', data: {}, trace: [] }),
    audienceChanged({ ...base, audienceId: 'aud', audienceName: 'Aud', entered: true, trace }),
    audienceChanged({ ...base, audienceId: 'aud', audienceName: 'Aud', entered: false, ruleId: 'r', trace }),
  ];
  for (const e of events) {
    const schema = DETAIL_SCHEMAS[e.detailType as keyof typeof DETAIL_SCHEMAS];
    expect(schema.strict().safeParse(e.detail).success).toBe(true);
  }
});

test('merge announcements follow the contract: Profile Merged and both kinds of Profile Merge Refused', () => {
  const record = {
    profileId: 'p1',
    at: '2026-01-01T00:00:01.000Z',
    messageId: 'm1',
    eventTimestamp: '2026-01-01T00:00:00.000Z',
    merged: ['p2'],
    identifiers: ['email:a@b.co', 'user_id:u1'],
    refused: ['phone:+31612345678'],
    aliasRefused: ['user_id:u0'],
    via: 'alias' as const,
  };
  const entries = mergeBusEntries(record);
  expect(entries.map((e) => [e.detailType, e.detail.reason])).toEqual([
    ['Profile Merged', undefined],
    ['Profile Merge Refused', 'merge_cap'],
    ['Profile Merge Refused', 'alias_limit'],
  ]);
  for (const e of entries) {
    const schema = DETAIL_SCHEMAS[e.detailType as keyof typeof DETAIL_SCHEMAS];
    expect(schema.strict().safeParse(e.detail).success).toBe(true);
  }
  // Identifier values stay in the table: the bus names their types only.
  expect(JSON.stringify(entries)).not.toMatch(/a@b\.co|u1|31612345678/);
});
