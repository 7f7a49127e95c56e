import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  checkCategory, defaultOptIn, effectivePreferences, resolvePreference, type Preference, type PolicyConfig,
} from '../../src/core/policy.js';
import { ManualClock } from '../../src/core/time.js';
import type { Channel } from '../../src/core/types.js';
import { openStore } from '../../src/store/index.js';
import { tempDir } from '../helpers.js';

const CONFIG: PolicyConfig = {
  categories: { transactional: { transactional: true }, security: { transactional: true }, marketing: { transactional: false } },
  defaults: { marketingOptIn: false },
};

function row(channel: Channel, category: string, optIn: boolean, source = 'cli'): Preference {
  return { userId: 'u', channel, category, optIn, source, updatedAt: '2026-01-01T00:00:00.000Z' };
}

test('resolution prefers the category row, then the channel row, then the default', () => {
  const cases: { name: string; rows: Preference[]; channel: Channel; category: string; dflt: boolean; optIn: boolean; origin: string }[] = [
    { name: 'nothing recorded, default in', rows: [], channel: 'email', category: 'security', dflt: true, optIn: true, origin: 'default' },
    { name: 'nothing recorded, default out', rows: [], channel: 'email', category: 'marketing', dflt: false, optIn: false, origin: 'default' },
    { name: 'category row beats default', rows: [row('email', 'marketing', true)], channel: 'email', category: 'marketing', dflt: false, optIn: true, origin: 'category' },
    { name: 'channel row beats default', rows: [row('sms', '*', false)], channel: 'sms', category: 'security', dflt: true, optIn: false, origin: 'channel' },
    { name: 'category row beats channel row', rows: [row('sms', '*', false), row('sms', 'security', true)], channel: 'sms', category: 'security', dflt: true, optIn: true, origin: 'category' },
    { name: 'category opt-out leaves other categories to the channel row', rows: [row('email', '*', true), row('email', 'marketing', false)], channel: 'email', category: 'security', dflt: false, optIn: true, origin: 'channel' },
    { name: 'rows of another channel are ignored', rows: [row('push', '*', false), row('push', 'marketing', false)], channel: 'email', category: 'marketing', dflt: true, optIn: true, origin: 'default' },
    { name: 'rows of another category are ignored', rows: [row('email', 'social', false)], channel: 'email', category: 'marketing', dflt: true, optIn: true, origin: 'default' },
  ];
  for (const c of cases) {
    const r = resolvePreference(c.rows, c.channel, c.category, c.dflt);
    assert.equal(r.optIn, c.optIn, c.name);
    assert.equal(r.origin, c.origin, c.name);
  }
});

test('a resolved choice carries the deciding row\'s source and time', () => {
  const r = resolvePreference([row('sms', '*', false, 'provider')], 'sms', 'marketing', true);
  assert.deepEqual(r, { optIn: false, origin: 'channel', source: 'provider', updatedAt: '2026-01-01T00:00:00.000Z' });
});

test('transactional categories default in; marketing and unknown categories follow defaults.marketingOptIn', () => {
  assert.equal(defaultOptIn('security', CONFIG), true);
  assert.equal(defaultOptIn('marketing', CONFIG), false);
  assert.equal(defaultOptIn('unheard-of', CONFIG), false);
  const optedIn = { ...CONFIG, defaults: { marketingOptIn: true } };
  assert.equal(defaultOptIn('marketing', optedIn), true);
  assert.equal(defaultOptIn('unheard-of', optedIn), true);
});

test('effective preferences cover every channel and configured category', () => {
  const all = effectivePreferences([row('email', 'marketing', true)], CONFIG);
  assert.equal(all.length, 3 * 3);
  assert.deepEqual(all.filter((p) => !p.optIn).map((p) => `${p.channel}/${p.category}`), ['push/marketing', 'sms/marketing']);
  assert.equal(all.find((p) => p.channel === 'email' && p.category === 'marketing')!.origin, 'category');
});

test('categories must be configured or "*", and the error names the fix', () => {
  assert.equal(checkCategory('*', ['marketing']), '*');
  assert.equal(checkCategory('marketing', ['marketing']), 'marketing');
  assert.throws(() => checkCategory('promo', ['marketing']), /"promo" is not a category: use one of marketing, or add it with: notify config set categories\.promo/);
  assert.throws(() => checkCategory('Bad Name'), /not a category name/);
});

test('optedInSql selects exactly the users the pure policy opts in', async (t) => {
  const store = await openStore(join(tempDir(t), 'notify.db'), new ManualClock());
  t.after(() => store.close());
  const choices = [undefined, true, false] as const;
  const users: { id: string; rows: Preference[] }[] = [];
  for (const [i, exact] of choices.entries()) {
    for (const [j, wide] of choices.entries()) {
      const id = `u${i}${j}`;
      const rows: Preference[] = [];
      if (exact !== undefined) rows.push(row('email', 'marketing', exact));
      if (wide !== undefined) rows.push(row('email', '*', wide));
      // Noise that must not count: the same category on another channel, another category on this one.
      rows.push(row('sms', 'marketing', !(exact ?? wide ?? false)), row('email', 'social', !(exact ?? true)));
      users.push({ id, rows });
    }
  }
  await store.users.upsertMany(users.map((u) => ({ id: u.id })));
  await store.prefs.set(users.flatMap((u) => u.rows.map((r) => ({ ...r, userId: u.id }))));

  let compared = 0;
  for (const channel of ['email', 'sms', 'push'] as const) {
    for (const category of ['marketing', 'social', 'security']) {
      for (const dflt of [true, false]) {
        const expected = users.filter((u) => resolvePreference(u.rows, channel, category, dflt).optIn).map((u) => u.id);
        const selected = (await store.users.list({ where: store.prefs.optedInSql(channel, category, dflt), limit: 1000 })).map((u) => u.id);
        assert.deepEqual(selected, expected, `${channel}/${category} default ${dflt}`);
        compared++;
      }
    }
  }
  assert.equal(compared, 18);
});
