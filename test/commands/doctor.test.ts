import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import webpush from 'web-push';
import { buildProgram, type Ctx } from '../../src/cli.js';
import * as doctor from '../../src/commands/doctor.js';
import { systemClock } from '../../src/core/time.js';
import { createDeps } from '../../src/deps.js';
import type { IO } from '../../src/io.js';
import { NotifyError } from '../../src/errors.js';
import { initHome, tempDir } from '../helpers.js';
import { configure } from '../daemon/harness.js';
import { startApnsEmulator } from '../emulators/apns.js';
import { startFcmEmulator } from '../emulators/fcm.js';
import { startSmtpEmulator } from '../emulators/smtp.js';
import { startTwilioEmulator } from '../emulators/twilio.js';

type T = { after(fn: () => unknown): void };

/**
 * Runs `notify --home HOME doctor ...argv` through the real program with `doctor` registered the way
 * src/cli.ts registers it; returns the output and the error the action threw (cli.ts maps it to exit 1).
 */
async function runDoctor(home: string, argv: string[]): Promise<{ stdout: string; error?: NotifyError }> {
  let stdout = '';
  const io: IO = {
    stdout: { write: (s: string) => { stdout += s; return true; } }, stderr: { write: () => true }, stdin: Readable.from([]),
    isTTY: false, errIsTTY: false, inIsTTY: false, color: false, env: {},
  };
  const deps = createDeps({ io, clock: systemClock, home });
  const ctx: Ctx = { action: (fn) => async (...args) => fn(deps, ...args) };
  const program = await buildProgram(ctx, io);
  if (!program.commands.some((c) => c.name() === 'doctor')) doctor.register(program, ctx);
  try {
    await program.parseAsync(['doctor', ...argv], { from: 'user' });
    return { stdout };
  } catch (err) {
    if (!(err instanceof NotifyError)) throw err;
    return { stdout, error: err };
  } finally {
    await deps.close();
  }
}

type Report = doctor.DoctorReport;
const byName = (r: Report) => Object.fromEntries(r.checks.map((c) => [c.check, c]));

async function emulators(t: T) {
  const [apns, fcm, twilio, smtp] = await Promise.all([startApnsEmulator(), startFcmEmulator(), startTwilioEmulator(), startSmtpEmulator()]);
  t.after(() => Promise.all([apns.close(), fcm.close(), twilio.close(), smtp.close()]));
  return { apns, fcm, twilio, smtp };
}

/** Closing an emulator removes its key files: tests that close one first keep copies here. */
function keepCredentials(t: T, e: Awaited<ReturnType<typeof emulators>>): { keyPath: string; serviceAccountPath: string } {
  const dir = tempDir(t);
  const keys = { keyPath: join(dir, 'AuthKey.p8'), serviceAccountPath: join(dir, 'service-account.json') };
  copyFileSync(e.apns.keyPath, keys.keyPath);
  copyFileSync(e.fcm.serviceAccountPath, keys.serviceAccountPath);
  return keys;
}

function realConfig(e: Awaited<ReturnType<typeof emulators>>, files = { keyPath: e.apns.keyPath, serviceAccountPath: e.fcm.serviceAccountPath }): Record<string, unknown> {
  const vapid = webpush.generateVAPIDKeys();
  return {
    'channels.apns': { provider: 'apns', keyFile: files.keyPath, keyId: e.apns.keyId, teamId: e.apns.teamId, topic: e.apns.topic, endpoint: e.apns.url },
    'channels.fcm': { provider: 'fcm', serviceAccountFile: files.serviceAccountPath, endpoint: e.fcm.url },
    'channels.webpush': { provider: 'webpush', vapidPublicKey: vapid.publicKey, vapidPrivateKey: vapid.privateKey, subject: 'mailto:ops@example.com' },
    'channels.sms': { provider: 'twilio', accountSid: e.twilio.accountSid, authToken: e.twilio.authToken, from: '+15005550006', endpoint: e.twilio.url },
    'channels.email': { provider: 'smtp', smtpUrl: e.smtp.smtpUrl, from: 'Acme <notify@acme.example>' },
  };
}

test('a fresh home passes with warnings: every channel is still on the log provider and no daemon runs', async (t) => {
  const home = await initHome(t);
  const { stdout, error } = await runDoctor(home, []);
  assert.equal(error, undefined);
  const lines = stdout.trim().split('\n').map((l) => l.split('\t'));
  assert.deepEqual(lines.map((l) => [l[0], l[1]]), [
    ['ok', 'config'], ['ok', 'database'], ['warn', 'daemon'],
    ['warn', 'apns'], ['warn', 'fcm'], ['warn', 'webpush'], ['warn', 'sms'], ['warn', 'email'],
  ]);
  assert.equal(lines[3]![2], `on the log provider: writes to ${join(home, 'log', 'apns.jsonl')} instead of sending`);
  assert.equal(lines[3]![3], 'notify config set channels.apns.provider apns (and its credentials)');
  assert.match(lines[1]![2]!, /schema \d+ \(current\)/);
});

test('every real provider checks out against its emulator without anything being sent', async (t) => {
  const e = await emulators(t);
  const home = await initHome(t);
  configure(home, realConfig(e));
  const { stdout, error } = await runDoctor(home, ['--json']);
  assert.equal(error, undefined, stdout);
  const report = JSON.parse(stdout) as Report;
  assert.equal(report.ok, true);
  const checks = byName(report);
  for (const name of ['apns key', 'apns connection', 'fcm service account', 'fcm token', 'fcm connection', 'webpush keys', 'sms credentials', 'sms account', 'email settings', 'email connection']) {
    assert.equal(checks[name]?.status, 'ok', `${name}: ${JSON.stringify(checks[name])}`);
  }
  assert.match(checks['email connection']!.detail, /AUTH accepted/);
  assert.match(checks['sms account']!.detail, /is active/);
  assert.equal(e.apns.sessions, 1, 'APNs saw one HTTP/2 session');
  assert.equal(e.apns.requests, 0, 'and no request');
  assert.equal(e.fcm.tokensIssued, 1);
  assert.equal(e.fcm.sendRequests, 0);
  assert.equal(e.twilio.received.length, 0);
  assert.equal(e.smtp.received.length, 0);
  assert.equal(e.smtp.connections, 1);
});

test('broken credentials and unreachable providers fail with a fix each, and the command exits 1', async (t) => {
  const e = await emulators(t);
  const home = await initHome(t);
  const dir = tempDir(t);
  const notAKey = join(dir, 'AuthKey.p8');
  writeFileSync(notAKey, 'not a key\n');
  const badAccount = join(dir, 'service-account.json');
  writeFileSync(badAccount, JSON.stringify({ type: 'authorized_user' }));
  const smtpUrl = new URL(e.smtp.smtpUrl);
  smtpUrl.password = 'wrong';
  const kept = keepCredentials(t, e);
  await e.apns.close();
  configure(home, {
    ...realConfig(e, kept),
    'channels.apns.keyFile': join(dir, 'missing.p8'),
    'channels.fcm.serviceAccountFile': badAccount,
    'channels.webpush.vapidPublicKey': webpush.generateVAPIDKeys().publicKey,
    'channels.sms.authToken': 'f'.repeat(32),
    'channels.email.smtpUrl': smtpUrl.toString(),
  });
  const { stdout, error } = await runDoctor(home, ['--json']);
  assert.ok(error instanceof doctor.DoctorFailedError, 'the command fails');
  assert.equal(error.exitCode, 1);
  const checks = byName(JSON.parse(stdout) as Report);
  assert.equal(checks['apns key']?.status, 'fail');
  assert.match(checks['apns key']!.detail, /missing\.p8 does not exist/);
  assert.equal(checks['fcm service account']?.status, 'fail');
  assert.match(checks['fcm service account']!.detail, /not "service_account"/);
  assert.equal(checks['webpush keys']?.status, 'fail');
  assert.match(checks['webpush keys']!.detail, /not the public half/);
  assert.equal(checks['sms account']?.status, 'fail');
  assert.match(checks['sms account']!.detail, /refused the credentials \(401 20003/);
  assert.equal(checks['email connection']?.status, 'fail');
  assert.match(checks['email connection']!.fix!, /password in channels\.email\.smtpUrl/);
  for (const c of Object.values(checks)) if (c.status === 'fail') assert.ok(c.fix, `${c.check} has a fix`);
  assert.match(error.message, /^5 checks failed: apns key, fcm service account, webpush keys, sms account, email connection$/);

  // A good key at an endpoint where nothing listens: the connection check fails.
  configure(home, { 'channels.apns.keyFile': kept.keyPath });
  const again = byName(JSON.parse((await runDoctor(home, ['--json'])).stdout) as Report);
  assert.equal(again['apns key']?.status, 'ok');
  assert.equal(again['apns connection']?.status, 'fail');
  assert.match(again['apns connection']!.detail, /cannot reach 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
});

test('--offline reads and parses every credential but connects to nothing', async (t) => {
  const e = await emulators(t);
  const home = await initHome(t);
  configure(home, realConfig(e, keepCredentials(t, e)));
  await Promise.all([e.apns.close(), e.fcm.close(), e.twilio.close(), e.smtp.close()]);
  const { stdout, error } = await runDoctor(home, ['--offline', '--json']);
  assert.equal(error, undefined, stdout);
  const report = JSON.parse(stdout) as Report;
  assert.deepEqual(report.checks.filter((c) => !['config', 'database', 'daemon'].includes(c.check)).map((c) => [c.check, c.status]), [
    ['apns key', 'ok'], ['fcm service account', 'ok'], ['webpush keys', 'ok'], ['sms credentials', 'ok'], ['email settings', 'ok'],
  ]);
});

test('an invalid config fails the config check and stops there', async (t) => {
  const home = await initHome(t);
  writeFileSync(join(home, 'config.json'), JSON.stringify({ channels: { apns: { provider: 'carrier-pigeon' } } }));
  const { stdout, error } = await runDoctor(home, ['--json']);
  assert.ok(error instanceof doctor.DoctorFailedError);
  const report = JSON.parse(stdout) as Report;
  assert.equal(report.ok, false);
  assert.deepEqual(report.checks.map((c) => [c.check, c.status]), [['config', 'fail']]);
  assert.match(report.checks[0]!.detail, /channels\.apns\.provider/);
});

test('a home that does not exist fails with "notify init" as the fix', async (t) => {
  const home = join(tempDir(t), 'nowhere');
  const report = await doctor.run({}, createDeps({ io: { stdout: { write: () => true }, stderr: { write: () => true }, stdin: Readable.from([]), isTTY: false, errIsTTY: false, inIsTTY: false, color: false, env: {} }, clock: systemClock, home }));
  assert.equal(report.ok, false);
  assert.deepEqual(report.checks.map((c) => [c.check, c.status, c.fix]), [['config', 'fail', 'notify init']]);
});
