import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Liquid } from 'liquidjs';
import { compileTemplate, LruCache, renderContext, resolveVariant, TemplateCache, TemplateRenderError } from '../../src/core/render.js';
import { estimatePushBytes, validateTemplate, type TemplateDef } from '../../src/core/template.js';
import { htmlToText } from '../../src/core/html-text.js';
import { InputError } from '../../src/errors.js';
import type { User } from '../../src/core/types.js';

const config = { categories: { transactional: { transactional: true }, marketing: { transactional: false } } };

function user(fields: Partial<User> = {}): User {
  return {
    id: 'u1', name: 'Ada', email: 'ada@example.com', phone: '+14155550100', locale: 'en', timezone: 'UTC',
    attributes: { plan: 'pro' }, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', ...fields,
  };
}

const def: TemplateDef = validateTemplate({
  category: 'transactional',
  push: { title: 'Hi {{ user.name }}', body: '{{ data.product | upcase }} is back', data: { sku: '{{ data.sku }}' }, badge: '{{ data.count }}' },
  sms: { body: '{{ user.name }}: {{ data.product }}' },
  email: { subject: 'About {{ data.product }}', html: '<p>Hi {{ user.name }}, plan {{ user.attributes.plan }}</p>' },
  locales: {
    ko: { push: { title: '{{ user.name }}님 안녕하세요' }, sms: { body: '{{ user.name }}님: {{ data.product }}' } },
    'ko-KP': { sms: { body: 'variant for ko-KP' } },
  },
}, config);

test('renders variables, filters and per-channel parts', () => {
  const t = compileTemplate(def);
  const ctx = renderContext(user(), { product: 'shoes', sku: 'S-1', count: 3 });
  const cases: [string, unknown, unknown][] = [
    ['push title', t.render('push', ctx).title, 'Hi Ada'],
    ['upcase filter', t.render('push', ctx).body, 'SHOES is back'],
    ['push data', t.render('push', ctx).data, { sku: 'S-1' }],
    ['badge renders to a number', t.render('push', ctx).badge, 3],
    ['sms body', t.render('sms', ctx).body, 'Ada: shoes'],
    ['email subject', t.render('email', ctx).subject, 'About shoes'],
    ['attributes under user.attributes', t.render('email', ctx).html, '<p>Hi Ada, plan pro</p>'],
    ['email text derived from html', t.render('email', ctx).text, 'Hi Ada, plan pro'],
  ];
  for (const [label, actual, expected] of cases) assert.deepEqual(actual, expected, label);
});

test('HTML escaping applies to email html only', () => {
  const t = compileTemplate(def);
  const ctx = renderContext(user({ name: 'Tom & <Jerry>' }), { product: '"a" & b', sku: '<x>', count: 1 });
  assert.equal(t.render('email', ctx).html, '<p>Hi Tom &amp; &lt;Jerry&gt;, plan pro</p>');
  assert.equal(t.render('email', ctx).text, 'Hi Tom & <Jerry>, plan pro');
  assert.equal(t.render('email', ctx).subject, 'About "a" & b');
  assert.equal(t.render('push', ctx).title, 'Hi Tom & <Jerry>');
  assert.equal(t.render('sms', ctx).body, 'Tom & <Jerry>: "a" & b');
  assert.deepEqual(t.render('push', ctx).data, { sku: '<x>' });
});

/** The engines render.ts documents, built here independently: the oracle for its shortcut. */
const oracleOptions = { strictVariables: true, strictFilters: true, ownPropertyOnly: true, templates: {} };
const oracle = { text: new Liquid(oracleOptions), html: new Liquid({ ...oracleOptions, outputEscape: 'escape' as const }) };

function outcome(render: () => string): string {
  try {
    return `ok:${render()}`;
  } catch (err) {
    return `error:${(err as Error).message.includes('undefined variable') ? 'undefined variable' : 'other'}`;
  }
}

test('plain outputs render exactly as Liquid renders them, escaping and errors included', () => {
  const sources = [
    'Hi {{ user.name }}', '{{user.name}}!', '{{ data.n }} / {{ data.f }} / {{ data.neg }} / {{ data.big }}', '{{ data.yes }} {{ data.no }}',
    '{{ data.nil }}|{{ data.empty }}|', '{{ data.list }}', '{{ data.obj }}', '{{ data.obj.inner.deep }}', '{{ data.obj.size }}',
    '{{ data.list.size }} {{ data.list.first }}', '{{ data.missing }}', '{{ data.nil.x }}', '{{ data.str.size }}', '{{ data.inherited.toString }}',
    '{{\n  user.attributes.plan\n}} and {{ data.html }}', '{{- user.name -}} x', '{{ user.name | upcase }}', '{% if data.yes %}{{ data.html }}{% endif %}',
    'a {{ b', 'text only }} with braces {', '{{ data.undef }}', '{{ user.attributes.nested.level }}', '{{ data.unicode }}{{ data.n }}{{ data.html }}',
  ];
  const data: Record<string, unknown> = {
    n: 42, f: 0.1 + 0.2, neg: -0, big: 1e21, yes: true, no: false, nil: null, empty: '', list: [1, 'b', null], obj: { inner: { deep: 'd' }, k: 1 },
    str: 'abc', inherited: Object.create({ toString: 'inherited' }), html: `<a href="x">Tom & 'Jerry'</a>`, undef: undefined, unicode: 'é 漢字 😀',
  };
  const ctx = renderContext(user({ attributes: { plan: 'pro <b>', nested: { level: 3 } } }), data);
  for (const source of sources) {
    const t = compileTemplate({ category: 'transactional', sms: { body: source }, email: { subject: 'x', html: source, text: 'x' } });
    assert.equal(outcome(() => t.render('sms', ctx).body), outcome(() => oracle.text.parseAndRenderSync(source, ctx)), `text: ${source}`);
    assert.equal(outcome(() => t.render('email', ctx).html!), outcome(() => oracle.html.parseAndRenderSync(source, ctx)), `html: ${source}`);
  }
});

test('plain outputs do not go through Liquid; filters and missing values do', (t) => {
  const calls = t.mock.method(Liquid.prototype, 'renderSync');
  const tpl = compileTemplate({ category: 'transactional', sms: { body: 'Hi {{ user.name }}, {{ data.n }}' }, push: { title: '{{ user.name | upcase }}', body: 'b' } });
  assert.equal(tpl.render('sms', renderContext(user(), { n: 1 })).body, 'Hi Ada, 1');
  assert.equal(calls.mock.callCount(), 0, 'plain outputs rendered by concatenation');
  assert.equal(tpl.render('push', renderContext(user(), {})).title, 'ADA');
  assert.equal(calls.mock.callCount(), 1, 'a filter goes to Liquid');
  assert.throws(() => tpl.render('sms', renderContext(user(), {})), /undefined variable "data.n"/);
  assert.equal(calls.mock.callCount(), 2, 'a missing value goes to Liquid, which names it');
});

test('locale variants fall back from ko-KR to ko to the default parts', () => {
  const t = compileTemplate(def);
  const ctx = renderContext(user({ name: '민수' }), { product: '신발', sku: 'S', count: 0 });
  const cases: [locale: string | null, sms: string, pushTitle: string][] = [
    ['ko-KR', '민수님: 신발', '민수님 안녕하세요'],
    ['ko', '민수님: 신발', '민수님 안녕하세요'],
    ['ko_kr', '민수님: 신발', '민수님 안녕하세요'],
    ['ko-KP', 'variant for ko-KP', '민수님 안녕하세요'],
    ['en-US', '민수: 신발', 'Hi 민수'],
    [null, '민수: 신발', 'Hi 민수'],
  ];
  for (const [locale, sms, pushTitle] of cases) {
    assert.equal(t.render('sms', ctx, locale).body, sms, `sms for ${locale}`);
    assert.equal(t.render('push', ctx, locale).title, pushTitle, `push title for ${locale}`);
    // Fields the variant does not give come from the default part.
    assert.equal(t.render('push', ctx, locale).body, '신발 is back', `push body for ${locale}`);
  }
  assert.equal(resolveVariant(def, 'ko-KP'), 'ko-kp');
  assert.equal(resolveVariant(def, 'ko-Hang-KR'), 'ko');
  assert.equal(resolveVariant(def, 'kok'), undefined);
});

test('an undefined variable is an error naming the variable and the part', () => {
  const t = compileTemplate(def);
  const ctx = renderContext(user(), { sku: 'S', count: 1 });
  assert.throws(() => t.render('sms', ctx), (err: unknown) => {
    assert.ok(err instanceof TemplateRenderError);
    assert.equal(err.variable, 'data.product');
    assert.match(err.message, /^field "sms.body": undefined variable "data.product"/);
    return true;
  });
  assert.throws(() => t.render('sms', ctx, 'ko'), /field "locales.ko.sms.body": undefined variable "data.product"/);
});

test('a badge that does not render to a whole number is an error', () => {
  const t = compileTemplate(def);
  assert.throws(() => t.render('push', renderContext(user(), { product: 'x', sku: 's', count: 'many' })), /push.badge.*not a whole number/);
});

test('the template cache parses a (name, version) once and renders it many times', () => {
  const cache = new TemplateCache(2);
  let loads = 0;
  const load = () => { loads++; return def; };
  const ctx = renderContext(user(), { product: 'p', sku: 's', count: 1 });
  for (let i = 0; i < 100; i++) assert.equal(cache.get('promo', 1, load).render('sms', ctx).body, 'Ada: p');
  assert.equal(loads, 1);
  cache.get('promo', 2, load);
  cache.get('other', 1, load);
  cache.get('promo', 1, load); // evicted by the two above (max 2)
  assert.equal(loads, 4);
});

test('the LRU cache evicts the least recently used entry', () => {
  const lru = new LruCache<string, number>(2);
  lru.set('a', 1);
  lru.set('b', 2);
  assert.equal(lru.get('a'), 1);
  lru.set('c', 3);
  assert.equal(lru.get('b'), undefined);
  assert.equal(lru.get('a'), 1);
  assert.equal(lru.get('c'), 3);
  assert.equal(lru.size, 2);
});

test('validation reports Liquid syntax errors with part, line and column', () => {
  const cases: [raw: Record<string, unknown>, message: RegExp][] = [
    [{ email: { subject: 'x', html: '<p>\n  {% if user.name %}hi\n</p>' } }, /^field "email.html": Liquid syntax error at line 2, column 3: tag \{% if user.name %\} not closed/],
    [{ sms: { body: 'a {{ data.x | nope }}' } }, /^field "sms.body": Liquid syntax error at line 1, column 3: undefined filter: nope/],
    [{ push: { title: 'x', body: '{{ data.x' } }, /^field "push.body": Liquid syntax error at line 1, column 1/],
    [{ sms: { body: 'ok' }, locales: { ko: { sms: { body: '{% for %}' } } } }, /^field "locales.ko.sms.body": Liquid syntax error/],
  ];
  for (const [raw, message] of cases) {
    assert.throws(() => validateTemplate({ category: 'marketing', ...raw }, config), (err: unknown) => err instanceof InputError && message.test(err.message), String(message));
  }
});

test('validation rejects unknown keys, categories, variables and empty templates', () => {
  const cases: [raw: Record<string, unknown>, message: RegExp][] = [
    [{ category: 'marketing', push: { title: 'x', body: 'y', titel: 'z' } }, /field "push.titel": unknown key "titel"/],
    [{ category: 'marketing', pigeon: {} }, /field "pigeon": unknown key/],
    [{ category: 'promo', sms: { body: 'x' } }, /unknown category "promo".*notify config set categories.promo.transactional true\|false/],
    [{ sms: { body: 'x' } }, /field "category": a template needs a category/],
    [{ category: 'marketing' }, /at least one part/],
    [{ category: 'marketing', sms: { body: '{{ product }}' } }, /field "sms.body": unknown variable "product"/],
    [{ category: 'marketing', sms: { body: '{{ user.plan }}' } }, /unknown variable "user.plan".*user.attributes.plan/],
    [{ category: 'marketing', email: { subject: 'x' } }, /field "email": an email part needs html or text/],
    [{ category: 'marketing', locales: { ko: { sms: {} } } }, /field "locales.ko.sms.body": is required/],
  ];
  for (const [raw, message] of cases) {
    assert.throws(() => validateTemplate(raw, config), (err: unknown) => err instanceof InputError && message.test(err.message), String(message));
  }
  // Locally assigned names and loop variables are fine.
  assert.doesNotThrow(() => validateTemplate({ category: 'marketing', sms: { body: '{% assign n = data.items | size %}{{ n }}{% for i in data.items %}{{ i }}{% endfor %}' } }, config));
});

test('a push payload that cannot fit 4 KB is rejected with its size', () => {
  const big = { category: 'marketing', push: { title: 'x', body: 'y'.repeat(4100) } };
  assert.throws(() => validateTemplate(big, config), /field "push": the push payload is 41\d\d bytes.*at most 4096/);
  // Variables do not count toward the estimate.
  const vars = { category: 'marketing', push: { title: 'x', body: '{{ data.a }}'.repeat(400) } };
  assert.doesNotThrow(() => validateTemplate(vars, config));
  assert.equal(estimatePushBytes({ title: '{{ user.name }}', body: 'hi' }), JSON.stringify({ title: '', body: 'hi' }).length);
  const koBig = { category: 'marketing', push: { title: 'x', body: 'y' }, locales: { ko: { push: { body: '가'.repeat(1400) } } } };
  assert.throws(() => validateTemplate(koBig, config), /field "locales.ko.push": the push payload is \d+ bytes/);
});

test('email text is derived from html on save, and a variant html gets its own text', () => {
  const saved = validateTemplate({
    category: 'marketing',
    email: { subject: 's', html: '<p>Hello <a href="{{ data.url }}">open</a></p>' },
    locales: { ko: { email: { html: '<p>안녕 <a href="{{ data.url }}">열기</a></p>' } } },
  }, config);
  assert.equal(saved.email!.text, 'Hello open ({{ data.url }})');
  assert.equal(saved.locales!.ko!.email!.text, '안녕 열기 ({{ data.url }})');
  const ctx = renderContext(user(), { url: 'https://ex.com/?a=1&b=2' });
  const t = compileTemplate(saved);
  assert.equal(t.render('email', ctx, 'ko').text, '안녕 열기 (https://ex.com/?a=1&b=2)');
  assert.equal(t.render('email', ctx, 'ko').html, '<p>안녕 <a href="https://ex.com/?a=1&amp;b=2">열기</a></p>');
});

test('html to text keeps links, paragraphs, breaks and list items, and decodes entities', () => {
  const cases: [html: string, text: string][] = [
    ['<p>One</p><p>Two</p>', 'One\n\nTwo'],
    ['Line one<br>Line two<br/>Line three', 'Line one\nLine two\nLine three'],
    ['<a href="https://ex.com/x">Read more</a>', 'Read more (https://ex.com/x)'],
    ['<a href="https://ex.com">https://ex.com</a>', 'https://ex.com'],
    ['<a href="mailto:help@ex.com">help@ex.com</a>', 'help@ex.com'],
    ['<a href="#top">Top</a>', 'Top'],
    ['Fish &amp; chips &lt;3 &quot;yum&quot; &#39;ok&#39; &#x263A; caf&eacute;', 'Fish & chips <3 "yum" \'ok\' ☺ caf&eacute;'],
    ['<ul><li>a</li><li>b</li></ul>', '- a\n- b'],
    ['<html><head><title>T</title><style>p { color: red }</style></head><body><h1>Title</h1>\n\n   <p>Body   text\n here</p></body></html>', 'Title\n\nBody text here'],
    ['<div>a</div><div>b</div><!-- hidden -->', 'a\nb'],
    ['<img src="x.png" alt="Logo"> Shop', 'Logo Shop'],
    ['a&nbsp;b', 'a b'],
  ];
  for (const [html, text] of cases) assert.equal(htmlToText(html), text, html);
});
