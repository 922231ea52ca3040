/**
 * `npm run screenshots`: a throwaway runtime (in memory, a free port) with a little sample data,
 * and a screenshot of every console page at 1280×800 in headless Chromium, written to
 * `docs/console/<page>.png` (shown by docs/console.md).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startRuntime, type Runtime } from '../local/runtime';
import { launchChromium } from '../test/helpers/browser';

const out = join(__dirname, '..', 'docs', 'console');

async function send(rt: Runtime, batch: Record<string, unknown>[]): Promise<void> {
  const res = await fetch(`${rt.url}/v1/batch`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${rt.keys.write}:`).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ batch }),
  });
  if (!res.ok) throw new Error(`POST /v1/batch: ${res.status}`);
}

/** Waits until the profile of `id` has `events` timeline events (the pipeline is asynchronous). */
async function waitForTimeline(rt: Runtime, id: string, events: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const res = await fetch(`${rt.url}/v1/profiles/${encodeURIComponent(id)}/events`, {
      headers: { authorization: `Basic ${Buffer.from(`${rt.keys.read}:`).toString('base64')}` },
    });
    if (res.ok && ((await res.json()) as { events: unknown[] }).events.length >= events) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the profile ${id} did not get ${events} events`);
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(out, `${name}.png`) });
  process.stderr.write(`docs/console/${name}.png\n`);
}

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  const rt = await startRuntime({ inMemory: true, port: 0, rulesDir: join(__dirname, '..', 'rules') });
  const browser = await launchChromium();
  try {
    await send(rt, [
      { type: 'page', anonymousId: 'visitor-1', name: 'Home', properties: { path: '/' } },
      { type: 'track', anonymousId: 'visitor-1', event: 'Product Viewed', properties: { product_id: 'p-1', category: 'shoes' } },
      {
        type: 'identify',
        userId: 'ada-42',
        anonymousId: 'visitor-1',
        traits: { email: 'ada@example.com', name: 'Ada Lovelace', plan: 'pro' },
      },
      {
        type: 'track',
        userId: 'ada-42',
        event: 'Order Completed',
        properties: { revenue: 150, products: [{ product_id: 'p-1', category: 'shoes' }] },
      },
    ]);
    await send(rt, [{ type: 'track', userId: 'ada-42' }]).catch(() => undefined); // a rejected event for the health page
    await waitForTimeline(rt, 'user_id:ada-42', 4);
    await fetch(`${rt.url}/v1/sources`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${rt.keys.admin}:`).toString('base64')}` },
      body: JSON.stringify({ name: 'crm', party: 'second', trust: 'trusted' }),
    });

    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await page.goto(`${rt.url}/console/`);
    await shoot(page, 'sign-in');
    await page.getByLabel('Admin key or read key').fill(rt.keys.admin);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    // The landing page: the overview's counters and charts.
    await page.locator('figure.chart canvas').nth(1).waitFor();
    await shoot(page, 'overview');
    // Live events: the page opens the debugger session; events sent now show within a second.
    await page.goto(`${rt.url}/console/events`);
    await page.locator('[data-session="open"]').waitFor();
    await send(rt, [
      { type: 'page', anonymousId: 'visitor-2', name: 'Pricing', properties: { path: '/pricing' } },
      { type: 'track', anonymousId: 'visitor-2', event: 'Signup Started', properties: { plan: 'team' } },
      { type: 'identify', userId: 'grace-7', anonymousId: 'visitor-2', traits: { email: 'grace@example.com', name: 'Grace' } },
    ]);
    await send(rt, [{ type: 'track', userId: 'grace-7', event: 'Signup Completed', properties: 'team' }]).catch(() => undefined);
    await page.locator('li[data-status="rejected"]').first().waitFor();
    await page.locator('li[data-entry]').nth(3).waitFor();
    await page.locator('li[data-status="rejected"] summary').first().click();
    await shoot(page, 'live-events');
    await page.goto(`${rt.url}/console/audiences`);
    await page.locator('tr[data-audience]').first().waitFor();
    await page.getByRole('button', { name: 'New audience' }).click();
    await page.getByLabel('Id').fill('pro-plan');
    await page.getByLabel('Name').fill('Pro plan');
    await page
      .getByLabel('Definition (JSON)')
      .fill(JSON.stringify({ condition: { path: 'profile.traits.plan', op: 'equals', value: 'pro' } }, null, 2));
    await page.getByRole('button', { name: 'Create audience' }).click();
    await page.locator('#audience-editor-json-issues li').first().waitFor();
    await shoot(page, 'audiences');
    await page.goto(`${rt.url}/console/audiences/high-value`);
    await page.locator('pre.json').waitFor();
    await shoot(page, 'audience');
    await page.goto(`${rt.url}/console/profiles/email:ada@example.com`);
    await page.locator('.timeline li').first().waitFor();
    await shoot(page, 'profile');
    await page.locator('.timeline li', { hasText: 'Order Completed' }).locator('summary').click();
    await page.locator('figure.graph').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await shoot(page, 'profile-graph-timeline');
    await page.goto(`${rt.url}/console/sources`);
    await page.locator('tr[data-source="crm"]').waitFor();
    await shoot(page, 'sources');
    await page.goto(`${rt.url}/console/rules`);
    await page.locator('tr[data-rule]').first().waitFor();
    await page.locator('figure.chart canvas').waitFor();
    await shoot(page, 'rules');
    await page.goto(`${rt.url}/console/rules/high-value-order`);
    await page.getByLabel('Profile').fill('email:ada@example.com');
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page.locator('.trace-tree').waitFor();
    await page.locator('h2', { hasText: 'Dry run' }).evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await shoot(page, 'rule-dry-run');
    await page.getByRole('button', { name: 'Backtest' }).click();
    await page.locator('[data-backtest]').waitFor();
    await page.locator('[data-backtest]').scrollIntoViewIfNeeded();
    await shoot(page, 'rule-backtest');
    await page.goto(`${rt.url}/console/health`);
    await page.locator('tr[data-queue="ingest"]').waitFor();
    await page.locator('li[data-rejected]').first().waitFor();
    await shoot(page, 'health');
  } finally {
    await browser.close();
    await rt.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
