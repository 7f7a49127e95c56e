import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import twilio from 'twilio';
import { loadConfig } from '../../src/config.js';
import { validateTemplate } from '../../src/core/template.js';
import { startSmtpEmulator } from '../emulators/smtp.js';
import { startTwilioEmulator } from '../emulators/twilio.js';
import { json, notify } from '../helpers.js';
import { configure, openHomeStore, seededHome, startDaemon, waitFor } from '../daemon/harness.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const SAFARI = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15';
const SCANNER = 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)';

test('opens, clicks, one-click unsubscribes and SMS receipts are tracked honestly and show in stats', async (t) => {
  const smtp = await startSmtpEmulator();
  const sms = await startTwilioEmulator();
  t.after(() => smtp.close());
  t.after(() => sms.close());
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const home = await seededHome(t, 4, {
    'server.listen': `127.0.0.1:${port}`, 'server.publicUrl': base, 'tracking.machineOpenMs': 300, 'defaults.marketingOptIn': true,
    'channels.email': { provider: 'smtp', smtpUrl: smtp.smtpUrl, from: 'news@example.com' },
    'channels.sms': { provider: 'twilio', accountSid: sms.accountSid, authToken: sms.authToken, from: '+14155550000', endpoint: sms.url },
  });
  const store = await openHomeStore(t, home);
  await store.templates.create('promo', validateTemplate({
    category: 'marketing',
    email: { subject: 'Sale', html: '<p>Hi {{ user.name }} <a href="https://shop.example.com/sale?x=1&amp;y=2">Sale</a> <a href="https://shop.example.com/faq">FAQ</a></p>' },
    sms: { body: 'Sale today' },
  }, loadConfig(home)));
  const sent = json(await notify(home, ['send', '--template', 'promo', '--segment', 'all', '--json']));
  const daemon = await startDaemon(t, home, { NOTIFY_SERVER_LISTEN: `127.0.0.1:${port}` });
  await waitFor(() => smtp.received.length === 4 && sms.received.length === 4, 'the campaign to arrive at the emulators');

  const mail = (user: string) => smtp.received.find((m) => m.to.includes(`${user}@example.com`))!;
  const links = (user: string) => [...mail(user).html!.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!);
  const pixel = (user: string) => /<img src="([^"]+\.gif)"/.exec(mail(user).html!)![1]!;
  assert.ok(links('u000000').every((l) => l.startsWith(`${base}/t/c/`)), 'links are rewritten to the tracker');
  assert.match(mail('u000000').headers['list-unsubscribe']!, new RegExp(`^<${base}/u/[^>]+>$`));
  assert.equal(mail('u000000').headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
  assert.match(sms.received[0]!.statusCallback!, new RegExp(`^${base}/hooks/twilio/status\\?d=\\d+$`));

  // u000000: a scanner fetches the pixel at once; later the person opens and clicks twice.
  assert.equal((await fetch(pixel('u000000'), { headers: { 'user-agent': SCANNER } })).status, 200);
  await new Promise((r) => setTimeout(r, 400));
  const open = await fetch(pixel('u000000'), { headers: { 'user-agent': SAFARI } });
  assert.equal(open.headers.get('content-type'), 'image/gif');
  for (let i = 0; i < 2; i++) {
    const click = await fetch(links('u000000')[0]!, { redirect: 'manual', headers: { 'user-agent': SAFARI } });
    assert.equal(click.status, 302);
    assert.equal(click.headers.get('location'), 'https://shop.example.com/sale?x=1&y=2');
  }
  // u000001 clicks without the pixel loading: the click implies the open.
  assert.equal((await fetch(links('u000001')[1]!, { redirect: 'manual' })).headers.get('location'), 'https://shop.example.com/faq');
  // u000002 unsubscribes with one click (RFC 8058).
  const unsubscribeUrl = /^<(.+)>$/.exec(mail('u000002').headers['list-unsubscribe']!)![1]!;
  assert.match(await (await fetch(unsubscribeUrl)).text(), /<form method="post">/);
  const unsub = await fetch(unsubscribeUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
  assert.equal(unsub.status, 200);
  const prefs = json(await notify(home, ['prefs', 'show', '--user', 'u000002', '--history', '--json']));
  assert.ok(JSON.stringify(prefs).includes('"unsubscribe"'), 'recorded with source unsubscribe');

  // Tampered and unknown tokens: a 404 page, never a redirect, nothing counted.
  const clickUrl = links('u000003')[0]!;
  const tampered = clickUrl.slice(0, -3) + (clickUrl.endsWith('AAA') ? 'BBB' : 'AAA');
  const bad = await fetch(tampered, { redirect: 'manual' });
  assert.equal(bad.status, 404);
  assert.equal(bad.headers.get('location'), null);
  assert.equal((await fetch(`${base}/t/o/nonsense.gif`)).status, 404);
  assert.equal((await fetch(`${base}/u/nonsense`, { method: 'POST' })).status, 404);

  // Twilio receipts: a signed callback counts; a forged one is refused.
  const callback = sms.received.find((m) => m.to === '+14155550000' || m.to)!.statusCallback!;
  const params = { MessageSid: 'SM' + 'a'.repeat(32), MessageStatus: 'delivered', To: '+14155550000' };
  const signature = twilio.getExpectedTwilioSignature(sms.authToken, callback, params);
  const post = (sig: string) => fetch(callback, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sig }, body: new URLSearchParams(params).toString() });
  assert.equal((await post(signature)).status, 204);
  assert.equal((await post(signature.slice(0, -4) + 'AAA=')).status, 403);

  const all = json(await notify(home, ['stats', '--campaign', sent.id, '--json']));
  assert.equal(all.sent, 8);
  assert.deepEqual(all.receipts, { delivered: 1, undelivered: 0 });
  const email = json(await notify(home, ['stats', '--campaign', sent.id, '--channel', 'email', '--json']));
  assert.deepEqual(
    { sent: email.sent, delivered: email.delivered, opened: email.opened, clicked: email.clicked, unsubscribed: email.unsubscribed, rates: email.rates },
    { sent: 4, delivered: 4, opened: { unique: 2, total: 2, machine: 1 }, clicked: { unique: 2, total: 3 }, unsubscribed: 1,
      rates: { delivery: 1, open: 0.5, click: 0.5, unsubscribe: 0.25 } },
  );
  assert.equal(email.latencyMs.p50 !== null, true);
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
});
