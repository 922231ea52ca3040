/**
 * The live event debugger through the local runtime over HTTP: without a session collect keeps
 * no debug entry; with one (opened with the read key), an accepted and a rejected event show in
 * `GET /v1/debug/events` within 2 s, the rejected one with its reason and failing field, filters
 * and the cursor work, the write key cannot watch, and erasing the person removes their entries.
 */
import { randomBytes } from 'node:crypto';
import type { Runtime } from '../../local/runtime';
import { startTestRuntime } from '../helpers/runtime';
import { documentClient, localDynamoConfig } from '../../adapters/dynamo/client';
import { scanTable, eventually } from '../helpers/dynamo';
import { apiClient } from '../helpers/http';
import { settle } from '../helpers/check';
import { DebugEventsResponseSchema, DebugSessionResponseSchema, type DebugEntry } from '../../core/debug';
import { DEBUG_PK_PREFIX, DEBUG_SESSION_PK } from '../../adapters/dynamo/keys';
import { StatsResponseSchema } from '../../core/stats';

let rt: Runtime;
const run = randomBytes(4).toString('hex');

beforeAll(async () => {
  rt = await startTestRuntime('debugger-e2e', { streamPollMs: 25 });
}, 60_000);

afterAll(async () => {
  await rt?.stop();
});

const { call, post, send } = apiClient(() => rt);

async function debugItems(): Promise<Record<string, any>[]> {
  const doc = documentClient(localDynamoConfig(rt.dynamoEndpoint));
  try {
    return (await scanTable(doc, rt.tableName)).filter((i) => String(i.pk).startsWith(DEBUG_PK_PREFIX) && i.pk !== DEBUG_SESSION_PK);
  } finally {
    doc.destroy();
  }
}

describe('live events (debugger)', () => {
  it('keeps nothing while no session is open', async () => {
    await send({ type: 'track', userId: `quiet-${run}`, event: 'Viewed' });
    expect((await post('/v1/track', { type: 'track', userId: `quiet-${run}` })).status).toBe(400);
    const listed = await call('GET', '/v1/debug/events', rt.keys.read);
    expect(listed.status).toBe(200);
    expect(DebugEventsResponseSchema.parse(listed.body)).toMatchObject({ events: [], active: false });
    expect(await debugItems()).toEqual([]);
  });

  it('the write key cannot open a session or watch', async () => {
    expect((await call('POST', '/v1/debug/sessions', rt.keys.write)).status).toBe(401);
    expect((await call('GET', '/v1/debug/events', rt.keys.write)).status).toBe(401);
    expect((await call('GET', '/v1/debug/events')).status).toBe(401);
  });

  it('shows accepted and rejected events within 2 s of a session opened with the read key, filterable, with a cursor', async () => {
    const opened = await call('POST', '/v1/debug/sessions', rt.keys.read);
    expect(opened.status).toBe(200);
    const session = DebugSessionResponseSchema.parse(opened.body);
    expect(Date.parse(session.session.expiresAt)).toBeGreaterThan(Date.now());

    const user = `dbg-${run}`;
    await send({ type: 'track', userId: user, event: `Debugged ${run}`, properties: { plan: 'pro' } });
    // A track without its event name: rejected, with the failing field.
    expect((await post('/v1/track', { type: 'track', userId: user, properties: { note: run } })).status).toBe(400);

    const seen = await eventually(
      async () => {
        const r = await call('GET', '/v1/debug/events', rt.keys.read);
        const events = DebugEventsResponseSchema.parse(r.body).events.filter((e) => e.payload.includes(user));
        return events.length >= 2 ? { events, body: r.body } : undefined;
      },
      2000,
      50,
    );
    const accepted = seen.events.find((e) => e.status === 'accepted')!;
    const rejected = seen.events.find((e) => e.status === 'rejected')!;
    expect(accepted).toMatchObject({ type: 'track', event: `Debugged ${run}`, sourceId: 'default', route: 'batch' });
    expect(JSON.parse(accepted.payload)).toMatchObject({ userId: user, properties: { plan: 'pro' } });
    expect(rejected).toMatchObject({ type: 'track', field: 'event', route: 'track' });
    expect(rejected.reason).toEqual(expect.any(String));
    expect(seen.body.active).toBe(true);
    // Newest first.
    const ids = seen.body.events.map((e: DebugEntry) => e.id);
    expect([...ids].sort().reverse()).toEqual(ids);

    // Filters.
    const byStatus = DebugEventsResponseSchema.parse((await call('GET', '/v1/debug/events?status=rejected', rt.keys.read)).body).events;
    expect(byStatus.every((e) => e.status === 'rejected')).toBe(true);
    expect(byStatus.some((e) => e.payload.includes(user))).toBe(true);
    const byName = DebugEventsResponseSchema.parse(
      (await call('GET', `/v1/debug/events?event=${encodeURIComponent(`Debugged ${run}`)}&type=track`, rt.keys.admin)).body,
    ).events;
    expect(byName.map((e) => e.id)).toEqual([accepted.id]);
    expect(DebugEventsResponseSchema.parse((await call('GET', '/v1/debug/events?sourceId=src_none', rt.keys.read)).body).events).toEqual(
      [],
    );
    // A bad filter is a 400 naming the parameter.
    const bad = await call('GET', '/v1/debug/events?type=nope', rt.keys.read);
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].path).toBe('type');

    // The cursor: a later poll with it still answers what arrived after it.
    const cursor = (await call('GET', '/v1/debug/events', rt.keys.read)).body.cursor as string;
    await send({ type: 'identify', userId: user, traits: { late: run } });
    const later = await eventually(
      async () => {
        const events = DebugEventsResponseSchema.parse(
          (await call('GET', `/v1/debug/events?since=${encodeURIComponent(cursor)}`, rt.keys.read)).body,
        ).events;
        return events.some((e) => e.type === 'identify' && e.payload.includes(user)) ? events : undefined;
      },
      2000,
      50,
    );
    expect(later.every((e) => e.id > cursor)).toBe(true);
  });

  it('GET /v1/stats counts stored events, names, rejections and actions per rule by hour and day', async () => {
    const user = `stats-${run}`;
    await settle(rt); // what earlier tests sent is counted already
    const before = (await call('GET', '/v1/stats', rt.keys.read)).body;
    await send(
      { type: 'identify', userId: user, traits: { plan: 'pro' } },
      { type: 'track', userId: user, event: 'Order Completed', properties: { revenue: 250 } },
      { type: 'track', userId: user, event: 'Order Completed', properties: { revenue: 5 } },
    );
    expect((await post('/v1/track', { type: 'track', userId: user })).status).toBe(400);
    const after = await eventually(async () => {
      const r = await call('GET', '/v1/stats', rt.keys.read);
      expect(r.status).toBe(200);
      const b = StatsResponseSchema.parse(r.body);
      return b.totals.events >= before.totals.events + 3 &&
        (b.totals.actions['high-value-order'] ?? 0) >= (before.totals.actions['high-value-order'] ?? 0) + 1
        ? b
        : undefined;
    });
    expect(after.totals.events - before.totals.events).toBe(3);
    expect(after.totals.rejected - before.totals.rejected).toBe(1);
    expect((after.totals.byType.track ?? 0) - (before.totals.byType.track ?? 0)).toBe(2);
    expect(after.totals.actions['high-value-order']! - (before.totals.actions['high-value-order'] ?? 0)).toBe(1);
    expect(after.topEvents.find((e) => e.event === 'Order Completed')?.count).toBeGreaterThanOrEqual(2);
    expect(after.hours).toHaveLength(48);
    expect(after.hours[46]!.events + after.hours[47]!.events).toBeGreaterThanOrEqual(3);
    expect(after.days.at(-1)!.events).toBe(after.totals.events - after.days.slice(0, -1).reduce((n, d) => n + d.events, 0));
    expect((await call('GET', '/v1/stats', rt.keys.write)).status).toBe(401);
    expect((await call('GET', '/v1/stats?from=nope', rt.keys.read)).status).toBe(400);
  });

  it('erasing the person removes their debug entries', async () => {
    const user = `gone-${run}`;
    await call('POST', '/v1/debug/sessions', rt.keys.admin);
    await send({ type: 'identify', userId: user, traits: { email: `${user}@example.com` } });
    await eventually(async () => ((await debugItems()).some((i) => String(i.e).includes(user)) ? true : undefined));
    await eventually(async () => ((await call('GET', `/v1/profiles/user_id:${user}`, rt.keys.read)).status === 200 ? true : undefined));
    const erased = await call('DELETE', `/v1/profiles/user_id:${user}`, rt.keys.admin);
    expect(erased.status).toBe(200);
    expect(erased.body.erased.copies['debug entries']).toBeGreaterThanOrEqual(1);
    expect((await debugItems()).filter((i) => String(i.e).includes(user))).toEqual([]);
  });
});
