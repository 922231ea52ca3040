/**
 * The shipped rules end to end, in-process: events in over HTTP, through stitch, the timeline
 * and the stream into evaluate, actions out on the bus; and the rules admin API.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { documentClient, localDynamoConfig } from '../../adapters/dynamo/client';
import { DynamoPersonalizationStore } from '../../adapters/dynamo/personalization-store';
import { DETAIL_SCHEMAS } from '../../core/rules/contract';
import type { Runtime } from '../../local/runtime';
import { startTestRuntime } from '../helpers/runtime';
import type { LocalBusEvent } from '../../local/bus';
import { eventually } from '../helpers/dynamo';

const root = join(__dirname, '../..');
let rt: Runtime;
const run = randomBytes(4).toString('hex');
const uid = (name: string) => `${name}-${run}`;

beforeAll(async () => {
  // The shipped rules, with cart abandonment's delay shortened to seconds, plus a trait-based
  // audience (the shipped high-value audience uses the computed trait lifetime_value).
  const rulesDir = mkdtempSync(join(tmpdir(), 'scherp-rules-'));
  cpSync(join(root, 'rules'), rulesDir, { recursive: true });
  const cart = JSON.parse(readFileSync(join(rulesDir, 'cart-abandonment.json'), 'utf8'));
  cart.condition.history.within = '3s';
  cart.actions[0].delay = '3s';
  writeFileSync(join(rulesDir, 'cart-abandonment.json'), JSON.stringify(cart));
  writeFileSync(
    join(rulesDir, 'vip.json'),
    JSON.stringify({ kind: 'audience', id: 'vip', name: 'VIP plan', condition: { path: 'profile.traits.plan', op: 'eq', value: 'vip' } }),
  );
  rt = await startTestRuntime('rules-e2e', { rulesDir, streamPollMs: 25 });
  parts = new DynamoPersonalizationStore(documentClient(localDynamoConfig(rt.dynamoEndpoint)), rt.tableName);
}, 60_000);

afterAll(async () => {
  await rt?.stop();
});

let parts: DynamoPersonalizationStore;
const basic = (k: string) => `Basic ${Buffer.from(`${k}:`).toString('base64')}`;

async function send(...batch: Record<string, unknown>[]): Promise<void> {
  const res = await fetch(`${rt.url}/v1/batch`, {
    method: 'POST',
    headers: { authorization: basic(rt.keys.write), 'content-type': 'application/json' },
    body: JSON.stringify({ batch }),
  });
  expect(res.status).toBe(200);
}

async function profileOf(userId: string, check: (p: { id: string; traits: Record<string, { value: unknown }> }) => boolean = () => true) {
  return eventually(async () => {
    const r = await fetch(`${rt.url}/v1/profiles/user_id:${userId}`, { headers: { authorization: basic(rt.keys.read) } });
    if (r.status !== 200) return undefined;
    const p = (await r.json()) as { id: string; traits: Record<string, { value: unknown }> };
    return check(p) ? p : undefined;
  });
}

const busFor = (profileId: string, detailType?: string) =>
  rt.bus.delivered.filter((e: LocalBusEvent) => e.detail.profileId === profileId && (!detailType || e['detail-type'] === detailType));

function admin(method: string, path: string, body?: unknown) {
  return fetch(`${rt.url}${path}`, {
    method,
    headers: { authorization: basic(rt.keys.admin), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const day = 86_400_000;
const at = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();
const diapers = { product_id: 'p-diapers', name: 'Diapers size 3', category: 'diapers', price: 12 };
const ointment = { product_id: 'p-ointment', name: 'Zinc baby ointment', category: 'baby ointment', price: 6 };

describe('repeat companion product (the seed scenario)', () => {
  it('recommends the ointment from the earlier order, exactly once', async () => {
    const user = uid('parent');
    await send({
      type: 'track',
      userId: user,
      event: 'Order Completed',
      timestamp: at(30 * day),
      properties: { order_id: 'o-1', revenue: 18, products: [diapers, ointment] },
    });
    const p = await profileOf(user);
    await eventually(async () =>
      (await admin('POST', '/v1/rules/repeat-companion-product/test', { profile: `user_id:${user}` })).status === 200 ? true : undefined,
    );
    await send({
      type: 'track',
      userId: user,
      event: 'Order Completed',
      timestamp: at(0),
      properties: { order_id: 'o-2', revenue: 12, products: [diapers] },
    });

    const [hit] = await eventually(() => {
      const got = busFor(p.id, 'Action Triggered');
      return got.length > 0 ? got : undefined;
    });
    // Let any duplicate arrive before counting.
    await new Promise((r) => setTimeout(r, 700));
    expect(busFor(p.id, 'Action Triggered')).toHaveLength(1);
    expect(hit!.source).toBe('scherp');
    expect(hit!.detail).toMatchObject({
      version: '1',
      ruleId: 'repeat-companion-product',
      action: 'recommend-product',
      profileId: p.id,
      userId: user,
      data: { products: [ointment], fromOrderId: 'o-1', orderId: 'o-2' },
    });
    expect(hit!.detail.dedupeId).toMatch(/^[0-9a-f]{32}$/);
    const explanation = hit!.detail.explanation as { path: string; actual: unknown; result: boolean }[];
    expect(explanation).toContainEqual(expect.objectContaining({ path: 'history(Order Completed)', actual: 1, result: true }));
    expect(explanation).toContainEqual(expect.objectContaining({ path: 'event.properties.products[].category', actual: ['diapers'] }));

    // The on-site recommendation is stored on the profile with its expiry.
    const store = new DynamoPersonalizationStore(documentClient(localDynamoConfig(rt.dynamoEndpoint)), rt.tableName);
    const parts = await eventually(async () => {
      const got = await store.loadParts(p.id);
      return got.recommendations['companion-product'] ? got : undefined;
    });
    const rec = parts.recommendations['companion-product']!;
    expect(rec.data).toEqual({ products: [ointment] });
    expect(Date.parse(rec.expiresAt) - Date.parse(rec.createdAt)).toBe(14 * day);
  });

  it('does not fire when the new order has the ointment too, or without an earlier pair', async () => {
    const user = uid('other');
    await send({
      type: 'track',
      userId: user,
      event: 'Order Completed',
      timestamp: at(10 * day),
      properties: { order_id: 'x-1', revenue: 12, products: [diapers] },
    });
    const p = await profileOf(user);
    await send({
      type: 'track',
      userId: user,
      event: 'Order Completed',
      timestamp: at(0),
      properties: { order_id: 'x-2', revenue: 18, products: [diapers, ointment] },
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect(busFor(p.id, 'Action Triggered')).toEqual([]);
  });
});

describe('audiences', () => {
  it('enters and exits a trait-based audience, with the hashes ad platforms need', async () => {
    const user = uid('vip');
    await send({ type: 'identify', userId: user, traits: { plan: 'vip', email: ' Ada@Example.com ', phone: '+31 6 12345678' } });
    const p = await profileOf(user);
    const entered = await eventually(() => busFor(p.id, 'Audience Entered')[0]);
    expect(entered.detail).toMatchObject({ version: '1', audienceId: 'vip', audienceName: 'VIP plan', profileId: p.id, userId: user });
    const hashed = entered.detail.hashed as Record<string, string>;
    expect(hashed.emailSha256).toBe(createHash('sha256').update('ada@example.com').digest('hex'));
    expect(hashed.phoneSha256).toBe(createHash('sha256').update('+31612345678').digest('hex'));
    expect(hashed.phoneDigitsSha256).toBe(createHash('sha256').update('31612345678').digest('hex'));
    expect(entered.detail.email).toBeUndefined();

    await send({ type: 'identify', userId: user, traits: { plan: 'free' } });
    const exited = await eventually(() => busFor(p.id, 'Audience Exited')[0]);
    expect(exited.detail).toMatchObject({ audienceId: 'vip', profileId: p.id });
    expect(busFor(p.id, 'Audience Entered')).toHaveLength(1);
  });

  it('the shipped high-value audience follows the computed lifetime value', async () => {
    const user = uid('ltv');
    await send({ type: 'identify', userId: user, traits: { name: 'Grace' } });
    const p = await profileOf(user);
    // Orders push the computed trait lifetime_value (the sum of Order Completed revenue) over 500.
    await send({
      type: 'track',
      userId: user,
      event: 'Order Completed',
      timestamp: at(2 * day),
      properties: { order_id: 'b-1', revenue: 400, products: [diapers] },
    });
    await eventually(async () => ((await parts.loadParts(p.id)).computed.order_count === 1 ? true : undefined));
    expect(busFor(p.id, 'Audience Entered').filter((e) => e.detail.audienceId === 'high-value')).toEqual([]);
    await send({
      type: 'track',
      userId: user,
      event: 'Order Completed',
      timestamp: at(0),
      properties: { order_id: 'b-2', revenue: 240, products: [ointment] },
    });
    const entered = await eventually(() => busFor(p.id, 'Audience Entered').find((e) => e.detail.audienceId === 'high-value'));
    expect(entered.detail.explanation).toEqual([
      { path: 'profile.computed.lifetime_value', op: 'gt', expected: 500, actual: 640, result: true },
    ]);
    await new Promise((r) => setTimeout(r, 700));
    expect(busFor(p.id, 'Audience Entered').filter((e) => e.detail.audienceId === 'high-value')).toHaveLength(1);
    expect((await parts.loadParts(p.id)).computed).toMatchObject({
      lifetime_value: 640,
      order_count: 2,
      event_count: 3,
      purchased_categories: ['baby ointment', 'diapers'],
    });
  });
});

describe('cart abandonment (delay 3 s in this test; 1 h shipped)', () => {
  it('fires after the delay without an order, and not when the order came', async () => {
    const consent = { consent: { categoryPreferences: { Email: true } } };
    const gone = uid('gone');
    const bought = uid('bought');
    await send(
      { type: 'identify', userId: gone, traits: { email: `${gone}@example.com` }, context: consent },
      { type: 'identify', userId: bought, traits: { email: `${bought}@example.com` }, context: consent },
    );
    const [pg, pb] = [await profileOf(gone), await profileOf(bought)];
    await new Promise((r) => setTimeout(r, 300));
    await send(
      { type: 'track', userId: gone, event: 'Checkout Started', properties: { checkout_id: 'c-1', value: 40 } },
      { type: 'track', userId: bought, event: 'Checkout Started', properties: { checkout_id: 'c-2', value: 40 } },
    );
    await eventually(() => (rt.scheduler.pending >= 2 ? true : undefined));
    await send({ type: 'track', userId: bought, event: 'Order Completed', properties: { order_id: 'c-2', revenue: 40 } });
    expect(busFor(pg.id, 'Action Triggered')).toEqual([]);

    const hit = await eventually(() => busFor(pg.id, 'Action Triggered')[0], 10_000);
    expect(hit.detail).toMatchObject({
      ruleId: 'cart-abandonment',
      action: 'cart-abandoned',
      target: 'email',
      email: `${gone}@example.com`,
      data: { checkoutId: 'c-1', value: 40 },
    });
    await eventually(() => (rt.scheduler.pending === 0 ? true : undefined), 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(busFor(pb.id, 'Action Triggered')).toEqual([]);
  });
});

describe('complaint follow-up', () => {
  it('emails only profiles with email consent', async () => {
    const yes = uid('consents');
    const no = uid('declines');
    await send(
      { type: 'identify', userId: yes, traits: { email: `${yes}@example.com`, consent: { email: true } } },
      { type: 'identify', userId: no, traits: { email: `${no}@example.com`, consent: { email: false } } },
    );
    const [py, pn] = [await profileOf(yes), await profileOf(no)];
    await new Promise((r) => setTimeout(r, 300));
    await send(
      { type: 'track', userId: yes, event: 'Complaint Filed', context: { source: 'crm' }, properties: { case_id: 'k-1', subject: 'late' } },
      { type: 'track', userId: no, event: 'Complaint Filed', context: { source: 'crm' }, properties: { case_id: 'k-2', subject: 'late' } },
    );
    const hit = await eventually(() => busFor(py.id, 'Action Triggered')[0]);
    expect(hit.detail).toMatchObject({
      ruleId: 'complaint-follow-up',
      action: 'complaint-service-email',
      email: `${yes}@example.com`,
      data: { caseId: 'k-1' },
    });
    await new Promise((r) => setTimeout(r, 700));
    expect(busFor(pn.id, 'Action Triggered')).toEqual([]);
  });
});

describe('rules admin API', () => {
  it('needs the admin key', async () => {
    const r = await fetch(`${rt.url}/v1/rules`, { headers: { authorization: basic(rt.keys.read) } });
    expect(r.status).toBe(401);
  });

  it('refuses an invalid rule with the reason and the path', async () => {
    const r = await admin('PUT', '/v1/rules/bad', {
      name: 'bad',
      trigger: {},
      condition: { all: [{ path: 'event.x', op: 'between', value: 1 }] },
      actions: [{ type: 'emit', action: 'x', cooldown: 'soon' }],
    });
    expect(r.status).toBe(400);
    const body = (await r.json()) as { issues: { path: string; message: string }[] };
    expect(body.issues.map((i) => i.path)).toEqual(expect.arrayContaining([expect.stringMatching(/^condition/), 'actions[0].cooldown']));
  });

  it('stores, lists, dry-runs, backtests and deletes a rule', async () => {
    const rule = {
      name: 'Big spender',
      trigger: { events: ['Order Completed'] },
      condition: { path: 'event.properties.revenue', op: 'gte', value: 15 },
      actions: [{ type: 'emit', action: 'big' }],
    };
    const put = await admin('PUT', '/v1/rules/big-spender', rule);
    expect(put.status).toBe(200);
    expect(await (await admin('GET', '/v1/rules/big-spender')).json()).toMatchObject({ id: 'big-spender', enabled: true });
    const list = (await (await admin('GET', '/v1/rules')).json()) as { rules: { id: string }[] };
    expect(list.rules.map((r) => r.id)).toEqual(
      expect.arrayContaining(['big-spender', 'high-value-order', 'repeat-companion-product', 'high-value']),
    );

    const dry = (await (
      await admin('POST', '/v1/rules/big-spender/test', {
        event: { type: 'track', userId: 'nobody', event: 'Order Completed', properties: { revenue: 20 } },
      })
    ).json()) as Record<string, unknown>;
    expect(dry).toMatchObject({
      wouldFire: true,
      profileId: null,
      trace: [{ path: 'event.properties.revenue', op: 'gte', expected: 15, actual: 20, result: true }],
    });
    expect((dry.actions as { preview: Record<string, unknown> }[])[0]!.preview).toMatchObject({ ruleId: 'big-spender', action: 'big' });
    const inline = (await (
      await admin('POST', '/v1/rules/big-spender/test', {
        rule: { ...rule, id: 'big-spender', condition: { path: 'event.properties.revenue', op: 'gte', value: 50 } },
        event: { type: 'track', userId: 'nobody', event: 'Order Completed', properties: { revenue: 20 } },
      })
    ).json()) as Record<string, unknown>;
    expect(inline.wouldFire).toBe(false);
    const before = rt.bus.delivered.length;

    // A backtest is a job over every profile: 202 with its Location, its answer there once it succeeded.
    const started = await admin('POST', '/v1/rules/big-spender/backtest', { from: at(40 * day), to: at(-day) });
    expect(started.status).toBe(202);
    const location = started.headers.get('location');
    expect(location).toMatch(/^\/v1\/jobs\/job_/);
    const job = await eventually(async () => {
      const j = (await (await admin('GET', location!)).json()) as { status: string; kind: string; result?: Record<string, number> };
      return j.status === 'succeeded' ? j : undefined;
    }, 30_000);
    expect(job.kind).toBe('rule-backtest');
    const bt = job.result!;
    // The seed scenario's parent (18, 12) and the other customer (12, 18) each have one order of 15 or more.
    expect(bt.profilesMatched).toBeGreaterThanOrEqual(2);
    expect(bt.firings).toBeGreaterThanOrEqual(bt.profilesMatched);
    expect(bt.profilesScanned).toBeGreaterThanOrEqual(bt.profilesMatched);
    expect(rt.bus.delivered.length).toBe(before);

    expect((await admin('DELETE', '/v1/rules/big-spender')).status).toBe(204);
    expect((await admin('GET', '/v1/rules/big-spender')).status).toBe(404);
    expect((await admin('DELETE', '/v1/rules/big-spender')).status).toBe(404);
  });
});

describe('the bus contract', () => {
  it('every event published during this run follows the published schema', () => {
    expect(rt.bus.delivered.length).toBeGreaterThan(5);
    for (const e of rt.bus.delivered) {
      const schema = DETAIL_SCHEMAS[e['detail-type'] as keyof typeof DETAIL_SCHEMAS];
      expect(schema).toBeDefined();
      const parsed = schema.strict().safeParse(JSON.parse(JSON.stringify(e.detail)));
      expect(parsed.error?.issues ?? []).toEqual([]);
    }
  });
});
