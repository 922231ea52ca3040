/**
 * The published JSON Schemas in `schemas/bus/` are exactly what the contract's zod schemas
 * generate (regenerate with `SCHERP_WRITE_SCHEMAS=1 npx jest test/unit/bus-contract.test.ts`),
 * and what Scherp emits parses with them.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { actionTriggered, audienceChanged, busJsonSchemas, DETAIL_SCHEMAS } from '../../core/rules/contract';

const dir = join(__dirname, '../../schemas/bus');

test('schemas/bus holds the generated JSON Schemas, one per detail-type', () => {
  const generated = busJsonSchemas();
  if (process.env.SCHERP_WRITE_SCHEMAS === '1') {
    for (const [file, schema] of Object.entries(generated)) writeFileSync(join(dir, file), JSON.stringify(schema, null, 2) + '\n');
  }
  expect(readdirSync(dir).filter((f) => f.endsWith('.json')).sort()).toEqual(Object.keys(generated).sort());
  for (const [file, schema] of Object.entries(generated)) {
    expect(existsSync(join(dir, file))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, file), 'utf8'))).toEqual(schema);
  }
});

test('emitted events follow the contract', () => {
  const base = { profileId: 'p', trigger: { messageId: 'm', event: 'E', timestamp: '2026-01-01T00:00:00.000Z' }, dedupeId: 'd', person: { userId: 'u', email: 'a@b.co', phone: '+31612345678' }, at: '2026-01-01T00:00:01.000Z' };
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
