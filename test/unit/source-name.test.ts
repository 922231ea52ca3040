/**
 * The source's name reaches rules as `event.sourceName` without a read in evaluate: the key
 * lookup carries it, collect and import stamp it; the shipped complaint rule matches it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BootstrapKeyStore, SourceKeyStore } from '../../adapters/keys';
import { parseConfig } from '../../core/config';
import { parseImport } from '../../core/import';
import { ingest } from '../../core/ingest';
import { parseRule, RuleSet, type EvaluationContext } from '../../core/rules/engine';
import { DEFAULT_SOURCE, keyDigest, sourceNameKey } from '../../core/sources';

describe('source names on events', () => {
  it('ingest stamps the name with the id and party', () => {
    const out = ingest({
      route: 'track',
      body: { type: 'track', userId: 'u', event: 'E' },
      receivedAt: new Date(),
      sourceId: 'src_1',
      party: 'second',
      sourceName: 'crm',
      newMessageId: () => 'm',
    });
    expect(out.accepted[0]).toMatchObject({ sourceId: 'src_1', party: 'second', sourceName: 'crm' });
  });

  it('import rows carry it', () => {
    const { events } = parseImport('{"id":"email:a@b.io","traits":{"x":1}}', 'ndjson', {
      sourceId: 'src_1',
      sourceName: 'crm',
      receivedAt: '2026-01-01T00:00:00.000Z',
      identity: parseConfig(undefined).identity,
    });
    expect(events[0]).toMatchObject({ sourceId: 'src_1', sourceName: 'crm' });
  });

  it('keys resolve to it: source keys from their lookup item, bootstrap keys to the default source', async () => {
    const keys = new SourceKeyStore(new BootstrapKeyStore({ write: async () => 'boot' }), async (d) =>
      d === keyDigest('k') ? { keyId: 'key_1', sourceId: 'src_1', party: 'second', sourceName: 'crm', status: 'active' } : undefined,
    );
    expect(await keys.authenticate('write', 'k')).toEqual({ kind: 'write', sourceId: 'src_1', party: 'second', sourceName: 'crm' });
    expect(await keys.authenticate('write', 'boot')).toEqual({
      kind: 'write',
      sourceId: 'default',
      party: 'first',
      sourceName: DEFAULT_SOURCE.name,
    });
  });

  it('names compare trimmed and case-insensitively', () => {
    expect(sourceNameKey('  CRM ')).toBe(sourceNameKey('crm'));
    expect(sourceNameKey('crm 2')).not.toBe(sourceNameKey('crm'));
  });
});

describe('the shipped complaint-follow-up rule', () => {
  const rule = parseRule(JSON.parse(readFileSync(join(__dirname, '../../rules/complaint-follow-up.json'), 'utf8')));
  const set = new RuleSet([rule]);
  const ctx = (event: Record<string, unknown>): EvaluationContext => ({
    event: { type: 'track', event: 'Complaint Filed', messageId: 'm', ...event },
    profile: { id: 'p', traits: {} },
  });

  it('fires for a source named crm (ids like src_…), and as before for crm ids and context.source', () => {
    expect(set.evaluate(ctx({ sourceId: 'src_9f2c', sourceName: 'crm' }))).toHaveLength(1);
    expect(set.evaluate(ctx({ sourceId: 'crm-legacy' }))).toHaveLength(1);
    expect(set.evaluate(ctx({ sourceId: 'default', context: { source: 'crm' } }))).toHaveLength(1);
  });

  it('not for other sources', () => {
    expect(set.evaluate(ctx({ sourceId: 'src_9f2c', sourceName: 'shop' }))).toEqual([]);
    expect(set.evaluate(ctx({ sourceId: 'src_9f2c' }))).toEqual([]);
  });
});
