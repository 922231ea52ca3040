/**
 * A deterministic, realistic web-shop data set: anonymous browsing, sign-ups, logins from
 * several devices (identify calls that link anonymous ids to user ids, and so merge profiles),
 * checkouts and orders with products, and complaints from a CRM source. Every event carries a
 * full Segment `context` (about 1 KB of JSON per event, as analytics.js sends it).
 *
 * Pure: the same seed and size give the same events, byte for byte (no Math.random, no clock).
 */

/** sfc32: a small, fast, seedable PRNG (public domain), seeded through splitmix32. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.next() * list.length)]!;
  }

  hex(chars: number): string {
    let s = '';
    while (s.length < chars) s += this.uint32().toString(16).padStart(8, '0');
    return s.slice(0, chars);
  }

  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[this.int(0, 3)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

export interface Product {
  readonly product_id: string;
  readonly sku: string;
  readonly name: string;
  readonly category: string;
  readonly brand: string;
  readonly price: number;
}

export const DIAPERS: Product = {
  product_id: 'p-1001',
  sku: 'BB-DIA-4-72',
  name: 'diapers',
  category: 'Baby',
  brand: 'Softly',
  price: 24.99,
};
export const BABY_OINTMENT: Product = {
  product_id: 'p-1002',
  sku: 'BB-OIN-100',
  name: 'baby ointment',
  category: 'Baby',
  brand: 'Softly',
  price: 7.49,
};

export const CATALOG: readonly Product[] = [
  DIAPERS,
  BABY_OINTMENT,
  { product_id: 'p-1003', sku: 'BB-WIP-12', name: 'baby wipes', category: 'Baby', brand: 'Softly', price: 3.99 },
  { product_id: 'p-2001', sku: 'HM-KET-17', name: 'electric kettle', category: 'Home', brand: 'Kuro', price: 39.9 },
  { product_id: 'p-2002', sku: 'HM-TWL-SET', name: 'bath towel set', category: 'Home', brand: 'Linnen', price: 29.5 },
  { product_id: 'p-3001', sku: 'EL-HPH-NC', name: 'noise cancelling headphones', category: 'Electronics', brand: 'Sonora', price: 199 },
  { product_id: 'p-3002', sku: 'EL-CBL-USBC', name: 'USB-C cable', category: 'Electronics', brand: 'Volt', price: 12.99 },
  { product_id: 'p-4001', sku: 'SP-YGM-6', name: 'yoga mat', category: 'Sports', brand: 'Flow', price: 34 },
  { product_id: 'p-4002', sku: 'SP-RUN-42', name: 'running shoes', category: 'Sports', brand: 'Stride', price: 119.95 },
  { product_id: 'p-5001', sku: 'BK-COOK-01', name: 'the weeknight cookbook', category: 'Books', brand: 'Pagina', price: 24 },
];

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0',
];
const LOCALES = ['nl-NL', 'en-US', 'de-DE', 'fr-FR', 'en-GB'];
const TIMEZONES = ['Europe/Amsterdam', 'America/New_York', 'Europe/Berlin', 'Europe/Paris', 'Europe/London'];
const FIRST = ['Ada', 'Bram', 'Chloé', 'Daan', 'Emma', 'Finn', 'Grace', 'Hugo', 'Iris', 'Jonas', 'Kim', 'Lotte'];
const LAST = ['de Vries', 'Jansen', 'Müller', 'Smith', 'Bakker', 'Visser', 'Dubois', 'Peters'];
const CAMPAIGNS = [
  { name: 'autumn-sale', source: 'newsletter', medium: 'email', content: 'hero-banner' },
  { name: 'baby-essentials', source: 'google', medium: 'cpc', term: 'diapers online' },
  { name: 'brand', source: 'instagram', medium: 'social', content: 'story' },
];
const SITE = 'https://shop.example';

/** What one generated event is, for the bench's bookkeeping. */
export type EventKind = 'page' | 'product_viewed' | 'signed_up' | 'identify' | 'signed_in' | 'checkout' | 'order' | 'complaint';

export interface GeneratedEvent {
  readonly kind: EventKind;
  /** A Segment call as an SDK sends it (type, ids, properties or traits, context, timestamp). */
  readonly body: Record<string, unknown>;
}

export interface GeneratedUser {
  readonly userId: string;
  readonly anonymousIds: readonly string[];
}

export interface DataSet {
  readonly seed: number;
  readonly users: readonly GeneratedUser[];
  /** Every event, ordered by timestamp (users interleave as on a real site). */
  readonly events: readonly GeneratedEvent[];
}

interface Device {
  readonly anonymousId: string;
  readonly userAgent: string;
  readonly ip: string;
  readonly locale: string;
  readonly timezone: string;
  readonly screen: { width: number; height: number; density: number };
}

/** The data set starts here; timestamps are deterministic offsets from it. */
const EPOCH = Date.UTC(2026, 0, 5, 8, 0, 0);

function device(rng: Prng): Device {
  const mobile = rng.chance(0.45);
  return {
    anonymousId: rng.uuid(),
    userAgent: rng.pick(USER_AGENTS),
    ip: `${rng.int(31, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`,
    locale: rng.pick(LOCALES),
    timezone: rng.pick(TIMEZONES),
    screen: mobile ? { width: 390, height: 844, density: 3 } : { width: 1920, height: 1080, density: 1 },
  };
}

/** A Segment analytics.js-shaped context for a page of the shop. */
function webContext(rng: Prng, d: Device, path: string, title: string, campaign: boolean): Record<string, unknown> {
  const c = campaign ? rng.pick(CAMPAIGNS) : undefined;
  const search = c ? `?utm_source=${c.source}&utm_medium=${c.medium}&utm_campaign=${c.name}` : '';
  return {
    library: { name: 'analytics.js', version: 'npm:next-1.70.0' },
    page: { path, referrer: c ? `https://${c.source}.example/` : `${SITE}/`, search, title, url: `${SITE}${path}${search}` },
    userAgent: d.userAgent,
    userAgentData: {
      brands: [
        { brand: 'Chromium', version: '129' },
        { brand: 'Not=A?Brand', version: '8' },
      ],
      mobile: d.screen.density > 1,
      platform: d.screen.density > 1 ? 'Android' : 'Windows',
    },
    ip: d.ip,
    locale: d.locale,
    timezone: d.timezone,
    screen: d.screen,
    ...(c ? { campaign: c } : {}),
    device: { id: d.anonymousId.slice(0, 18), type: d.screen.density > 1 ? 'mobile' : 'desktop' },
    instance: { id: `${d.anonymousId.slice(0, 8)}-tab` },
  };
}

function productProps(p: Product): Record<string, unknown> {
  return {
    product_id: p.product_id,
    sku: p.sku,
    name: p.name,
    category: p.category,
    brand: p.brand,
    price: p.price,
    currency: 'EUR',
    url: `${SITE}/p/${p.product_id}`,
    image_url: `${SITE}/img/${p.sku}.jpg`,
  };
}

export interface DataSetOptions {
  readonly users: number;
  readonly seed?: number;
  /** Prefix of user ids, to make disjoint sets from one seed. @default 'usr_' */
  readonly userPrefix?: string;
}

export function generateDataSet(opts: DataSetOptions): DataSet {
  const seed = opts.seed ?? 42;
  const rng = new Prng(seed);
  const prefix = opts.userPrefix ?? 'usr_';
  const users: GeneratedUser[] = [];
  const events: { at: number; seq: number; e: GeneratedEvent }[] = [];
  let seq = 0;

  for (let u = 0; u < opts.users; u++) {
    const userId = `${prefix}${rng.hex(12)}`;
    const devices = [device(rng)];
    if (rng.chance(0.5)) devices.push(device(rng));
    if (rng.chance(0.2)) devices.push(device(rng));
    users.push({ userId, anonymousIds: devices.map((d) => d.anonymousId) });
    const first = rng.pick(FIRST);
    const last = rng.pick(LAST);
    let at = EPOCH + rng.int(0, 28 * 86400) * 1000;
    const emit = (kind: EventKind, body: Record<string, unknown>) => {
      at += rng.int(4, 180) * 1000;
      const messageId = `ajs-next-${rng.hex(32)}`;
      events.push({ at, seq: seq++, e: { kind, body: { ...body, messageId, timestamp: new Date(at).toISOString() } } });
    };
    const browse = (d: Device, userKnown: boolean, campaign: boolean) => {
      const ids = userKnown ? { userId, anonymousId: d.anonymousId } : { anonymousId: d.anonymousId };
      const pages = rng.int(1, 3);
      for (let i = 0; i < pages; i++) {
        const cat = rng.pick(CATALOG).category;
        emit('page', {
          type: 'page',
          ...ids,
          name: cat,
          properties: { path: `/c/${cat.toLowerCase()}`, title: `${cat} | Shop`, url: `${SITE}/c/${cat.toLowerCase()}` },
          context: webContext(rng, d, `/c/${cat.toLowerCase()}`, `${cat} | Shop`, campaign && i === 0),
        });
      }
      const views = rng.int(1, 4);
      for (let i = 0; i < views; i++) {
        const p = rng.pick(CATALOG);
        emit('product_viewed', {
          type: 'track',
          ...ids,
          event: 'Product Viewed',
          properties: productProps(p),
          context: webContext(rng, d, `/p/${p.product_id}`, `${p.name} | Shop`, false),
        });
      }
    };

    // First visit, anonymous; then sign up on that device.
    const d0 = devices[0]!;
    browse(d0, false, rng.chance(0.4));
    const traits = {
      email: `${first.toLowerCase()}.${userId.slice(-6)}@mail.example`,
      firstName: first,
      lastName: last,
      name: `${first} ${last}`,
      createdAt: new Date(at).toISOString(),
      newsletter: rng.chance(0.6),
    };
    emit('identify', {
      type: 'identify',
      userId,
      anonymousId: d0.anonymousId,
      traits,
      context: webContext(rng, d0, '/account/new', 'Create account | Shop', false),
    });
    emit('signed_up', {
      type: 'track',
      userId,
      anonymousId: d0.anonymousId,
      event: 'Signed Up',
      properties: { method: 'email' },
      context: webContext(rng, d0, '/account/new', 'Create account | Shop', false),
    });

    // Other devices: browse anonymously, then log in (the identify merges the two profiles).
    for (const d of devices.slice(1)) {
      browse(d, false, rng.chance(0.3));
      emit('signed_in', {
        type: 'identify',
        userId,
        anonymousId: d.anonymousId,
        traits: { lastLogin: new Date(at).toISOString() },
        context: webContext(rng, d, '/login', 'Log in | Shop', false),
      });
    }

    // Orders, from any device, logged in.
    const orders = rng.int(0, 3);
    for (let o = 0; o < orders; o++) {
      const d = rng.pick(devices);
      browse(d, true, false);
      const items: { p: Product; quantity: number }[] = [];
      if (rng.chance(0.15)) items.push({ p: DIAPERS, quantity: rng.int(1, 3) }, { p: BABY_OINTMENT, quantity: 1 });
      const extra = rng.int(items.length > 0 ? 0 : 1, 3);
      for (let i = 0; i < extra; i++) items.push({ p: rng.pick(CATALOG), quantity: rng.int(1, 2) });
      const revenue = Math.round(items.reduce((s, i) => s + i.p.price * i.quantity, 0) * 100) / 100;
      const products = items.map((i) => ({
        product_id: i.p.product_id,
        sku: i.p.sku,
        name: i.p.name,
        category: i.p.category,
        price: i.p.price,
        quantity: i.quantity,
      }));
      const ids = { userId, anonymousId: d.anonymousId };
      emit('checkout', {
        type: 'track',
        ...ids,
        event: 'Checkout Started',
        properties: { value: revenue, revenue, currency: 'EUR', products },
        context: webContext(rng, d, '/checkout', 'Checkout | Shop', false),
      });
      const orderId = `ord_${rng.hex(10)}`;
      emit('order', {
        type: 'track',
        ...ids,
        event: 'Order Completed',
        properties: {
          order_id: orderId,
          checkout_id: `chk_${rng.hex(8)}`,
          total: revenue,
          revenue,
          shipping: 4.95,
          tax: Math.round(revenue * 21) / 100,
          currency: 'EUR',
          products,
        },
        context: webContext(rng, d, '/checkout/thank-you', 'Thank you | Shop', false),
      });
    }

    // A complaint synced from the CRM: server side, user id only.
    if (rng.chance(0.08)) {
      emit('complaint', {
        type: 'track',
        userId,
        event: 'Complaint Filed',
        properties: {
          ticket_id: `T-${rng.int(10000, 99999)}`,
          reason: rng.pick(['late delivery', 'damaged item', 'wrong item', 'refund']),
          channel: rng.pick(['email', 'phone', 'chat']),
          priority: rng.pick(['low', 'normal', 'high']),
        },
        context: { library: { name: 'crm-sync', version: '2.4.1' }, integration: { name: 'helpdesk', version: '2024-10' } },
      });
    }
  }
  events.sort((a, b) => a.at - b.at || a.seq - b.seq);
  return { seed, users, events: events.map((x) => x.e) };
}

/** A ~1 KB track event of the data set's shape, for load tests that send one body repeatedly. */
export function sampleTrack(seed = 7): Record<string, unknown> {
  const rng = new Prng(seed);
  const d = device(rng);
  const p = rng.pick(CATALOG);
  return {
    type: 'track',
    userId: `usr_${rng.hex(12)}`,
    anonymousId: d.anonymousId,
    event: 'Product Viewed',
    properties: productProps(p),
    context: webContext(rng, d, `/p/${p.product_id}`, `${p.name} | Shop`, true),
    timestamp: new Date(EPOCH).toISOString(),
  };
}
