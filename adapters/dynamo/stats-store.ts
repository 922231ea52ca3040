/**
 * The Overview's counters (`core/stats.ts`): one item per hour, `STATS#<yyyy-mm-dd>` / `H#<hh>`,
 * counters as plain number attributes added with `ADD` (one UpdateItem per batch per hour):
 * `ev` events stored, `mg` merges, `pf` profiles created, `rj` rejected, `t#<type>` per event type, `a#<ruleId>` actions
 * per rule, `n#<name>` per track event name. Names are bounded per hour: a batch's names are added
 * in one try when they are all there already, else while the hour holds fewer than
 * {@link STATS_NAMES_PER_HOUR} names (`nn` counts the additions), else (a full hour and a new
 * name: rare) the names the hour holds are read (one projected GetItem) and only those added. So
 * the item stays near 1 KB (one or two write units per update); a name first seen in a full hour
 * is not counted there (top names are lower bounds), every other count is exact. No TTL: 24
 * items a day, about 9,000 a year; no personal data (types, rule ids and event names only).
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StatsStore } from '../../app/ports';
import { STATS_NAMES_PER_BATCH, STATS_NAMES_PER_HOUR, topNames, type HourCounts, type HourTally } from '../../core/stats';
import { keys } from './keys';
import { queryAll } from './query';
import { isConditionFailure } from './conditions';

export class DynamoStatsStore implements StatsStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async add(t: HourTally): Promise<void> {
    const counters = (
      [
        ['ev', t.events],
        ['mg', t.merges],
        ['pf', t.profiles],
        ['rj', t.rejected],
        ...[...t.byType].map(([k, n]): [string, number] => [`t#${k}`, n]),
        ...[...t.actions].map(([k, n]): [string, number] => [`a#${k}`, n]),
      ] as [string, number][]
    ).filter(([, n]) => n > 0);
    const names = topNames(t.names, STATS_NAMES_PER_BATCH).map(([k, n]): [string, number] => [`n#${k}`, n]);
    const update = async (withNames: 'existing' | 'room' | readonly [string, number][]) => {
      const all =
        typeof withNames !== 'string'
          ? [...counters, ...withNames]
          : [...counters, ...names, ...(withNames === 'room' ? [['nn', names.length] as [string, number]] : [])];
      if (all.length === 0) return;
      const attrNames: Record<string, string> = Object.create(null);
      const values: Record<string, unknown> = Object.create(null);
      all.forEach(([k, n], i) => {
        attrNames[`#c${i}`] = k;
        values[`:c${i}`] = n;
      });
      let condition: string | undefined;
      if (withNames === 'existing') condition = names.map((_, i) => `attribute_exists(#c${counters.length + i})`).join(' AND ');
      if (withNames === 'room') {
        attrNames['#nn'] = 'nn';
        values[':max'] = STATS_NAMES_PER_HOUR;
        condition = 'attribute_not_exists(#nn) OR #nn < :max';
      }
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.statsHour(t.hour),
          UpdateExpression: `ADD ${all.map((_, i) => `#c${i} :c${i}`).join(', ')}`,
          ExpressionAttributeNames: attrNames,
          ExpressionAttributeValues: values,
          ...(condition ? { ConditionExpression: condition } : {}),
        }),
      );
    };
    if (names.length === 0) return update([]);
    for (const mode of ['existing', 'room'] as const) {
      try {
        return await update(mode);
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    }
    // The hour is full and the batch has a name it does not hold: add the names it holds (one
    // projected read), not the new ones.
    const held = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.statsHour(t.hour),
        ProjectionExpression: names.map((_, i) => `#n${i}`).join(', '),
        ExpressionAttributeNames: Object.fromEntries(names.map(([k], i) => [`#n${i}`, k])),
      }),
    );
    return update(names.filter(([k]) => held.Item !== undefined && Object.hasOwn(held.Item, k)));
  }

  async readDays(days: readonly string[]): Promise<HourCounts[]> {
    const out: HourCounts[] = [];
    for (const day of days) {
      const items = await queryAll(this.doc, {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.statsHour(`${day}T00`).pk },
      });
      for (const i of items) out.push(decode(day, i));
    }
    return out;
  }
}

function decode(day: string, item: Record<string, unknown>): HourCounts {
  const byType: Record<string, number> = Object.create(null);
  const names: Record<string, number> = Object.create(null);
  const actions: Record<string, number> = Object.create(null);
  for (const [k, v] of Object.entries(item)) {
    if (typeof v !== 'number') continue;
    if (k.startsWith('t#')) byType[k.slice(2)] = v;
    else if (k.startsWith('n#')) names[k.slice(2)] = v;
    else if (k.startsWith('a#')) actions[k.slice(2)] = v;
  }
  const num = (k: string) => (typeof item[k] === 'number' ? (item[k] as number) : 0);
  return {
    hour: `${day}T${String(item.sk).slice(2)}`,
    events: num('ev'),
    byType,
    names,
    merges: num('mg'),
    profiles: num('pf'),
    rejected: num('rj'),
    actions,
  };
}
