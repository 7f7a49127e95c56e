/**
 * The demo's sample data: users in two locales, devices of every platform, preferences (some opted
 * in to marketing, some out of email), two templates (one with a Korean variant) and a segment.
 * Seeding is an upsert, so the demo can run again on the same home.
 */
import { createECDH, randomBytes } from 'node:crypto';
import type { Config } from './config.js';
import type { Store } from './store/index.js';
import type { DeviceInput } from './store/devices.js';
import type { PreferenceChange } from './store/prefs.js';
import type { UserInput } from './store/users.js';

const FIRST = ['Ada', 'Grace', 'Alan', 'Linus', 'Min-jun', 'Seo-yeon', 'Ji-ho', 'Barbara', 'Ken', 'Margaret', 'Ha-eun', 'Dennis'];

export const DEMO_TEMPLATES: Record<string, unknown> = {
  welcome: {
    category: 'transactional',
    push: { title: 'Welcome, {{ user.name }}!', body: 'Your code is {{ data.code }}', data: { screen: 'home' } },
    sms: { body: 'notify demo: your code is {{ data.code }}' },
    email: {
      subject: 'Welcome to notify, {{ user.name }}',
      html: '<p>Hello {{ user.name }},</p><p>Your code is <b>{{ data.code }}</b>.</p>',
    },
  },
  promo: {
    category: 'marketing',
    push: { title: '{{ data.product | upcase }} is on sale', body: '{{ data.discount }}% off until Sunday', url: 'https://shop.example.com/sale' },
    email: {
      subject: '{{ data.discount }}% off {{ data.product }}',
      html: '<h1>{{ data.product }}</h1><p>Hi {{ user.name }}, take {{ data.discount }}% off. <a href="https://shop.example.com/sale">Shop now</a></p>',
    },
    locales: {
      ko: {
        push: { title: '{{ data.product | upcase }} 세일', body: '일요일까지 {{ data.discount }}% 할인' },
        email: { subject: '{{ data.product }} {{ data.discount }}% 할인', html: '<p>{{ user.name }}님, {{ data.discount }}% 할인을 받으세요.</p>' },
      },
    },
  },
};

function webSubscription(i: number) {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    endpoint: `https://push.example.com/demo/${i}`,
    keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
  };
}

export interface SeedResult { users: number; devices: number; templates: string[]; segments: string[] }

export async function seedDemo(store: Store, config: Config, count = 200): Promise<SeedResult> {
  const users: UserInput[] = [];
  const devices: DeviceInput[] = [];
  const prefs: PreferenceChange[] = [];
  for (let i = 1; i <= count; i++) {
    const id = `demo-${String(i).padStart(3, '0')}`;
    const korean = i % 3 === 0;
    users.push({
      id, name: `${FIRST[i % FIRST.length]} ${i}`, email: `${id}@example.com`,
      phone: korean ? `+8210${String(20000000 + i * 7919).slice(0, 8)}` : `+1415555${String(1000 + i).slice(-4)}`,
      locale: korean ? 'ko' : 'en', timezone: korean ? 'Asia/Seoul' : 'America/Los_Angeles',
      attributes: { plan: i % 4 === 0 ? 'pro' : 'free', country: korean ? 'KR' : 'US', age: 18 + (i % 50) },
    });
    const platform = i % 3 === 0 ? 'ios' : i % 3 === 1 ? 'android' : 'web';
    if (platform === 'ios') devices.push({ userId: id, platform, token: randomBytes(32).toString('hex') });
    else if (platform === 'android') devices.push({ userId: id, platform, token: `demo${i}:APA91b${randomBytes(60).toString('base64url')}` });
    else devices.push({ userId: id, platform, subscription: webSubscription(i) });
    // Most people took marketing; a few turned email off entirely.
    if (i % 5 !== 0) {
      prefs.push({ userId: id, channel: 'push', category: 'marketing', optIn: true, source: 'import' });
      prefs.push({ userId: id, channel: 'email', category: 'marketing', optIn: true, source: 'import' });
    }
    if (i % 17 === 0) prefs.push({ userId: id, channel: 'email', category: '*', optIn: false, source: 'import' });
  }
  await store.users.upsertMany(users);
  const fresh: DeviceInput[] = [];
  for (const d of devices) if ((await store.devices.listForUser(d.userId)).length === 0) fresh.push(d);
  await store.devices.registerMany(fresh);
  await store.prefs.set(prefs);
  const { validateTemplate } = await import('./core/template.js');
  for (const [name, raw] of Object.entries(DEMO_TEMPLATES)) {
    const def = validateTemplate(structuredClone(raw), config);
    if (await store.templates.get(name)) await store.templates.update(name, def);
    else await store.templates.create(name, def);
  }
  if (!(await store.segments.get('korea'))) await store.segments.create('korea', "locale = 'ko'", 'users who read Korean');
  return { users: users.length, devices: fresh.length, templates: Object.keys(DEMO_TEMPLATES), segments: ['all', 'korea'] };
}
