/**
 * Secrets never reach the daemon's log, even at debug level and while the providers refuse them: the
 * SMTP password (here a wrong one, so every send fails on AUTH), the Twilio auth token, the tracking key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readRawConfig } from '../../src/config.js';
import { startSmtpEmulator } from '../emulators/smtp.js';
import { startTwilioEmulator } from '../emulators/twilio.js';
import { notify } from '../helpers.js';
import { openHomeStore, seededHome, startDaemon, statusCounts, waitFor } from './harness.js';

test('the daemon log holds no secret, at debug level, while a provider refuses the credentials', async (t) => {
  const smtp = await startSmtpEmulator();
  const twilio = await startTwilioEmulator();
  t.after(() => smtp.close());
  t.after(() => twilio.close());
  const password = 'Wr0ng-smtp-p4ss!';
  const url = new URL(smtp.smtpUrl);
  url.password = encodeURIComponent(password);
  const home = await seededHome(t, 2, {
    'server.publicUrl': 'https://notify.example.com',
    'channels.email': { provider: 'smtp', smtpUrl: url.href, from: 'Acme <notify@acme.example>' },
    'channels.sms': { provider: 'twilio', accountSid: twilio.accountSid, authToken: twilio.authToken, from: '+15005550006', endpoint: twilio.url },
  });
  const trackingKey = (readRawConfig(home) as { tracking: { key: string } }).tracking.key;
  assert.ok(trackingKey.length >= 16, 'init made a tracking key');
  const store = await openHomeStore(t, home);
  const sent = await notify(home, ['send', '--template', 'note', '--segment', 'all', '--data', 'text=hi']);
  assert.equal(sent.code, 0, sent.stderr);
  const daemon = await startDaemon(t, home, {}, ['--log-level', 'debug']);
  await waitFor(() => statusCounts(store).sent === 2 && statusCounts(store).dead === 2, 'the SMS sent and the email dead on AUTH');
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  assert.ok(smtp.authFailures > 0, 'the SMTP server refused the password');
  const log = readFileSync(daemon.logFile, 'utf8');
  assert.match(log, /daemon started/);
  for (const [name, secret] of [['SMTP password', password], ['SMTP password, URL-encoded', encodeURIComponent(password)], ['Twilio auth token', twilio.authToken], ['tracking key', trackingKey]]) {
    assert.ok(!log.includes(secret!), `the log contains the ${name}`);
  }
  const dead = store.db.prepare("SELECT last_error FROM deliveries WHERE status = 'dead'").pluck().all() as string[];
  for (const e of dead) assert.ok(!e.includes(password) && e.includes('535'), e);
});
