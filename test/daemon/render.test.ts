/**
 * Rendering at dispatch for email: open and click tracking per template (`tracking: {opens, clicks}`;
 * a template that says nothing tracks both once the daemon has a public URL and a key), and RFC 8058
 * unsubscribe headers on marketing mail only. A real store file behind the renderer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseConfig } from '../../src/config.js';
import { ManualClock } from '../../src/core/time.js';
import { validateTemplate } from '../../src/core/template.js';
import type { User } from '../../src/core/types.js';
import type { EmailMessage } from '../../src/channels/types.js';
import { Renderer } from '../../src/daemon/render.js';
import { openStore } from '../../src/store/index.js';
import { tempDir } from '../helpers.js';

const HTML = '<p>Hi {{ user.name }}, see <a href="https://shop.example.com/sale">the sale</a>.</p>';
const USER: User = { id: 'u1', name: 'Ada', email: 'ada@example.com', phone: null, locale: null, timezone: null, attributes: {}, createdAt: '', updatedAt: '' };

test('email tracking follows the template: both by default, only what `tracking` turns on otherwise; unsubscribe headers on marketing', async (t) => {
  const config = parseConfig({
    server: { publicUrl: 'https://notify.example.com/' }, tracking: { key: 'k'.repeat(32) },
    categories: { transactional: { transactional: true }, marketing: { transactional: false } },
  }, 'test');
  const store = await openStore(join(tempDir(t), 'notify.db'), new ManualClock());
  t.after(() => store.close());
  const cases: [string, Record<string, unknown>, string, { click: boolean; pixel: boolean; unsubscribe: boolean }][] = [
    ['plain', {}, 'transactional', { click: true, pixel: true, unsubscribe: false }],
    ['clicks-only', { tracking: { clicks: true } }, 'transactional', { click: true, pixel: false, unsubscribe: false }],
    ['opens-only', { tracking: { opens: true } }, 'marketing', { click: false, pixel: true, unsubscribe: true }],
    ['untracked', { tracking: { opens: false, clicks: false } }, 'marketing', { click: false, pixel: false, unsubscribe: true }],
  ];
  const renderer = new Renderer(store, config);
  for (const [name, extra, category, expected] of cases) {
    const stored = await store.templates.create(name, validateTemplate({ category, email: { subject: 'Hi', html: HTML }, ...extra }, config));
    const n = { id: `n_${name}`, template: name, templateVersion: stored.version, data: {} };
    await renderer.prepare([n]);
    const row = { id: 7, notificationId: n.id, userId: 'u1', channel: 'email' as const, provider: 'email' as const, deviceId: null, address: USER.email, category, priority: 1, attempt: 1, createdAt: 0 };
    const m = renderer.message(row, n, USER) as EmailMessage;
    const href = /href="([^"]+)"/.exec(m.content.html!)![1]!;
    assert.equal(href.startsWith('https://notify.example.com/t/c/'), expected.click, `${name}: click tracking`);
    if (!expected.click) assert.equal(href, 'https://shop.example.com/sale', `${name}: the link as written`);
    assert.equal(/<img src="https:\/\/notify\.example\.com\/t\/o\/[^"]+\.gif"/.test(m.content.html!), expected.pixel, `${name}: open pixel`);
    assert.equal(m.headers?.['List-Unsubscribe']?.startsWith('<https://notify.example.com/u/') ?? false, expected.unsubscribe, `${name}: List-Unsubscribe`);
    assert.equal(m.headers?.['List-Unsubscribe-Post'], expected.unsubscribe ? 'List-Unsubscribe=One-Click' : undefined, `${name}: List-Unsubscribe-Post`);
  }
});
