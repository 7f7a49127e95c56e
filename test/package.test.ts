/**
 * The single executable (scripts/package.js), built once into a temp directory, copied elsewhere and run
 * the way a server runs it: from an empty directory with no node_modules above it, PATH without node,
 * and a fresh cache. Also the systemd units in deploy/.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { compileFunction } from 'node:vm';
import { loadConfig } from '../src/config.js';
import { validateTemplate } from '../src/core/template.js';
import { configure, openHomeStore, statusCounts, waitFor } from './daemon/harness.js';
import { startApnsEmulator } from './emulators/apns.js';
import { startFcmEmulator } from './emulators/fcm.js';
import { startSmtpEmulator } from './emulators/smtp.js';
import { startTwilioEmulator } from './emulators/twilio.js';
import { startWebPushEmulator } from './emulators/webpush.js';

const ROOT = resolve('.');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const requireBuiltin = createRequire(import.meta.url);
const EXE_NAME = `notify-${process.platform}-${process.arch}`;

const scratch = mkdtempSync(join(tmpdir(), 'notify-package-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

interface Built {
  /** The executable, copied away from the build output. */
  exe: string;
  /** The build output directory (sea/ with the bundle and assets). */
  out: string;
}

let building: Promise<Built> | undefined;
/** Builds once for the whole file. */
function build(): Promise<Built> {
  building ??= new Promise<Built>((resolveBuild, reject) => {
    const out = join(scratch, 'build');
    const child = spawn(process.execPath, [join(ROOT, 'scripts/package.js'), '--out', out, '--quiet'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`npm run package failed (${code}):\n${stderr}`));
      const bin = join(scratch, 'opt', 'notify');
      mkdirSync(bin, { recursive: true });
      const exe = join(bin, 'notify');
      copyFileSync(join(out, EXE_NAME), exe);
      chmodSync(exe, 0o755);
      resolveBuild({ exe, out });
    });
  });
  return building;
}

/** An empty directory for PATH, a cwd and a home: nothing of the build or the repository reachable. */
function sandbox(name: string) {
  const dir = join(scratch, name);
  const paths = { path: join(dir, 'empty-bin'), cwd: join(dir, 'cwd'), home: join(dir, 'home'), cache: join(dir, 'cache'), notifyHome: join(dir, 'notify-home') };
  for (const p of [paths.path, paths.cwd, paths.home]) mkdirSync(p, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    PATH: paths.path,
    HOME: paths.home,
    XDG_CACHE_HOME: paths.cache,
    // The emulators' certificates chain to the test CA, as a private CA would on a server.
    NODE_EXTRA_CA_CERTS: join(ROOT, 'test/fixtures/tls/ca.pem'),
    // The daemon's HTTP API on a free port: tests run side by side.
    NOTIFY_SERVER_LISTEN: '127.0.0.1:0',
  };
  return { ...paths, env };
}
type Sandbox = ReturnType<typeof sandbox>;

interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

function run(exe: string, sb: Sandbox, args: string[]): Promise<Run> {
  return new Promise((resolveRun) => {
    const child = spawn(exe, args, { cwd: sb.cwd, env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code, signal) => resolveRun({ code, signal, stdout, stderr }));
  });
}

async function ok(exe: string, sb: Sandbox, args: string[]): Promise<string> {
  const r = await run(exe, sb, args);
  assert.equal(r.code, 0, `notify ${args.join(' ')} exited ${r.code ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Starts `notify daemon start` in the foreground; resolves when it answers `daemon status`. */
async function startDaemon(t: { after(fn: () => unknown): void }, exe: string, sb: Sandbox, home: string) {
  const child = spawn(exe, ['--home', home, 'daemon', 'start'], { cwd: sb.cwd, env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | string>((r) => child.on('exit', (code, signal) => r(code ?? signal ?? 'unknown')));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`the daemon exited at start:\n${output}`);
    return (await run(exe, sb, ['--home', home, 'daemon', 'status'])).code === 0;
  }, 'the daemon to answer');
  return { child, exited, output: () => output };
}

test('the sandbox has no node on PATH and no node_modules above its directory', () => {
  const sb = sandbox('check');
  assert.equal(spawnSync('node', ['--version'], { env: sb.env }).error?.message.includes('ENOENT'), true, 'node is not on PATH');
  for (let dir = sb.cwd; ; dir = dirname(dir)) {
    assert.equal(existsSync(join(dir, 'node_modules')), false, `${dir}/node_modules`);
    if (dirname(dir) === dir) break;
  }
});

test('--version shows version, commit and the Node.js inside', async () => {
  const { exe } = await build();
  const out = await ok(exe, sandbox('version'), ['--version']);
  assert.match(out, new RegExp(`^notify ${PKG.version.replaceAll('.', '\\.')}\n`));
  assert.match(out, /\ncommit ([0-9a-f]{12}(-dirty)?|unknown)\n/);
  assert.ok(out.includes(`node ${process.version} (${process.platform}-${process.arch}, single executable)`), out);
});

test('--help works from an empty directory and extracts nothing', async () => {
  const { exe } = await build();
  const sb = sandbox('help');
  const out = await ok(exe, sb, ['--help']);
  assert.match(out, /^Usage: notify /);
  for (const command of ['demo', 'send', 'daemon', 'users', 'templates']) assert.match(out, new RegExp(`\n  ${command}\\b`));
  assert.equal(existsSync(sb.cache), false, 'no asset was extracted for --help');
});

test('demo runs end to end; the SQLite addon is extracted to a private cache and verified by hash', async () => {
  const { exe, out } = await build();
  const sb = sandbox('demo');
  const demo = JSON.parse(await ok(exe, sb, ['--home', sb.notifyHome, 'demo', '--users', '50', '--json'])) as { deliveries: Record<string, number>; files: string[] };
  assert.ok((demo.deliveries.sent ?? 0) > 50, JSON.stringify(demo.deliveries));
  assert.equal(Object.keys(demo.deliveries).filter((s) => s !== 'sent').length, 0, JSON.stringify(demo.deliveries));
  assert.equal(demo.files.length, 5);
  for (const f of demo.files) assert.ok(readFileSync(f, 'utf8').trim().split('\n').length > 0);

  const manifest = JSON.parse(readFileSync(join(out, 'sea/assets/manifest.json'), 'utf8')) as { assets: Record<string, { sha256: string }> };
  const hash = manifest.assets['better_sqlite3.node']!.sha256;
  const root = join(sb.cache, 'notify');
  assert.deepEqual(readdirSync(root), [hash]);
  const addon = join(root, hash, 'better_sqlite3.node');
  assert.equal(createHash('sha256').update(readFileSync(addon)).digest('hex'), hash);
  for (const dir of [root, join(root, hash)]) assert.equal(statSync(dir).mode & 0o777, 0o700, dir);

  // A damaged copy is replaced, not loaded.
  writeFileSync(addon, randomBytes(1024));
  const users = await ok(exe, sb, ['--home', sb.notifyHome, 'users', 'list', '--limit', '3', '--json']);
  assert.equal((JSON.parse(users) as unknown[]).length, 3);
  assert.equal(createHash('sha256').update(readFileSync(addon)).digest('hex'), hash, 're-extracted');
});

test('send, then the daemon in the foreground delivers through the log provider and drains on SIGTERM', async (t) => {
  const { exe } = await build();
  const sb = sandbox('daemon');
  const home = sb.notifyHome;
  await ok(exe, sb, ['--home', home, 'init', '--yes']);
  await ok(exe, sb, ['--home', home, 'users', 'add', 'ada', '--email', 'ada@example.com', '--phone', '+14155552671']);
  writeFileSync(join(sb.cwd, 'note.yaml'), 'category: transactional\nsms:\n  body: "Hi {{ user.name | default: \'there\' }}"\nemail:\n  subject: "Note"\n  text: "Order {{ data.order }}"\n');
  await ok(exe, sb, ['--home', home, 'templates', 'create', 'note', '--file', 'note.yaml']);
  const sent = JSON.parse(await ok(exe, sb, ['--home', home, 'send', '--template', 'note', '--user', 'ada', '--data', 'order=A-1', '--json'])) as { id: string };
  assert.ok(sent.id);

  const daemon = await startDaemon(t, exe, sb, home);
  const logged = (p: string) => (existsSync(join(home, 'log', `${p}.jsonl`)) ? readFileSync(join(home, 'log', `${p}.jsonl`), 'utf8') : '');
  await waitFor(() => logged('email').includes('A-1') && logged('sms').includes('+14155552671'), 'the email and the SMS in the log provider files');

  // The API on its thread, started from the executable's own worker bundle: a service posts a send.
  const { api } = JSON.parse(await ok(exe, sb, ['--home', home, 'daemon', 'status', '--json'])) as { api: string };
  const app = JSON.parse(await ok(exe, sb, ['--home', home, 'apps', 'create', 'shop', '--json'])) as { key: string; secret: string };
  const posted = await fetch(`${api}/v1/notifications`, {
    method: 'POST',
    headers: { authorization: 'Basic ' + Buffer.from(`${app.key}:${app.secret}`).toString('base64'), 'content-type': 'application/json' },
    body: JSON.stringify({ event_id: 'order-A-2', template: 'note', user_id: 'ada', channels: ['email'], data: { order: 'A-2' } }),
  });
  assert.equal(posted.status, 202, await posted.text());
  await waitFor(() => logged('email').includes('A-2'), 'the API send in the log provider file');
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  assert.match(daemon.output(), /draining in-flight sends/);
  assert.match(daemon.output(), /daemon stopped/);
  assert.doesNotMatch(daemon.output(), /checkpoint thread is gone|API thread failed/, 'both worker threads ran from the executable');
});

test('daemon start --detach starts the executable itself; daemon stop stops it', async () => {
  const { exe } = await build();
  const sb = sandbox('detach');
  const home = sb.notifyHome;
  await ok(exe, sb, ['--home', home, 'init', '--yes']);
  const started = await ok(exe, sb, ['--home', home, 'daemon', 'start', '--detach']);
  const pid = Number(/pid (\d+)/.exec(started)?.[1]);
  try {
    assert.ok(pid > 0, started);
    assert.equal(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0], exe, 'the child is the executable, not node');
    const status = JSON.parse(await ok(exe, sb, ['--home', home, 'daemon', 'status', '--json'])) as { pid: number };
    assert.equal(status.pid, pid);
    await ok(exe, sb, ['--home', home, 'daemon', 'stop']);
    assert.equal((await run(exe, sb, ['--home', home, 'daemon', 'status'])).code, 3);
  } finally {
    try { process.kill(pid, 'SIGKILL'); } catch { /* stopped */ }
  }
});

test('every real provider SDK works inside the executable: one send through each emulator', async (t) => {
  const { exe } = await build();
  const sb = sandbox('emulators');
  const home = sb.notifyHome;
  const vapid = JSON.parse(await ok(exe, sb, ['channels', 'webpush-keys', '--json'])) as { publicKey: string; privateKey: string };
  assert.match(vapid.publicKey, /^B[A-Za-z0-9_-]{86}$/, 'web-push generated the VAPID keys');

  const [apns, fcm, wp, twilio, smtp] = await Promise.all([
    startApnsEmulator(), startFcmEmulator(), startWebPushEmulator({ applicationServerKey: vapid.publicKey }), startTwilioEmulator(), startSmtpEmulator(),
  ]);
  t.after(() => Promise.all([apns.close(), fcm.close(), wp.close(), twilio.close(), smtp.close()]));
  await ok(exe, sb, ['--home', home, 'init', '--yes']);
  configure(home, {
    'daemon.pollMs': 50,
    'channels.apns': { provider: 'apns', keyFile: apns.keyPath, keyId: apns.keyId, teamId: apns.teamId, topic: apns.topic, endpoint: apns.url },
    'channels.fcm': { provider: 'fcm', serviceAccountFile: fcm.serviceAccountPath, endpoint: fcm.url },
    'channels.webpush': { provider: 'webpush', vapidPublicKey: vapid.publicKey, vapidPrivateKey: vapid.privateKey, subject: 'mailto:ops@example.com' },
    'channels.sms': { provider: 'twilio', accountSid: twilio.accountSid, authToken: twilio.authToken, from: '+15005550006', endpoint: twilio.url },
    'channels.email': { provider: 'smtp', smtpUrl: smtp.smtpUrl, from: 'Acme <notify@acme.example>' },
  });
  const store = await openHomeStore(t, home);
  const web = wp.createSubscription();
  await store.users.upsertMany([{ id: 'ada', name: 'Ada', email: 'ada@example.com', phone: '+14155552671' }]);
  await store.devices.registerMany([
    { userId: 'ada', platform: 'ios', token: randomBytes(32).toString('hex') },
    { userId: 'ada', platform: 'android', token: `fcm-${randomBytes(8).toString('hex')}` },
    { userId: 'ada', platform: 'web', subscription: web },
  ]);
  await store.templates.create('shipped', validateTemplate({
    category: 'transactional',
    push: { title: 'Shipped', body: 'Order {{ data.order }}' },
    sms: { body: 'Order {{ data.order }} shipped' },
    email: { subject: 'Order {{ data.order }}', text: 'On its way' },
  }, loadConfig(home)));

  await ok(exe, sb, ['--home', home, 'send', '--template', 'shipped', '--user', 'ada', '--data', 'order=B-7']);
  const daemon = await startDaemon(t, exe, sb, home);
  await waitFor(() => (statusCounts(store).sent ?? 0) + (statusCounts(store).dead ?? 0) === 5, 'five final deliveries');
  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  assert.deepEqual(statusCounts(store), { sent: 5 }, daemon.output());
  assert.equal(apns.received.length, 1);
  assert.equal(fcm.received.length, 1);
  assert.equal(wp.received.length, 1);
  assert.equal(twilio.received.length, 1);
  assert.match(twilio.received[0]!.body, /B-7/);
  assert.equal(smtp.received.length, 1);
});

test('every chunk compiles on its own with only Node built-ins to require', async () => {
  const { out } = await build();
  const builtins = new Set(builtinModules);
  const expected: Record<string, Record<string, string[]>> = {
    apns: { '@parse/node-apn': ['Provider', 'Notification'] },
    fcm: { 'firebase-admin/app': ['initializeApp', 'deleteApp'], 'firebase-admin/messaging': ['getMessaging'] },
    webpush: { 'web-push': ['sendNotification', 'generateVAPIDKeys'] },
    twilio: { twilio: [] },
    nodemailer: { nodemailer: ['createTransport'] },
    fastify: { fastify: [] },
    prompts: { '@inquirer/prompts': ['input', 'confirm'] },
    phone: { 'libphonenumber-js': ['parsePhoneNumberFromString'] },
    yaml: { yaml: ['parseDocument', 'isNode', 'LineCounter'] },
    liquid: { liquidjs: ['Liquid'] },
    zod: { zod: ['ZodError'] },
    metrics: { 'prom-client': ['Registry', 'Counter', 'Gauge', 'Histogram', 'collectDefaultMetrics'] },
    csv: { 'csv-parse': ['parse'] },
    pino: { pino: [] },
    cron: { croner: ['Cron'] },
    table: { 'cli-table3': [] },
  };
  const dir = join(out, 'sea/assets/chunks');
  assert.deepEqual(readdirSync(dir).sort(), Object.keys(expected).map((c) => `${c}.js`).sort());
  for (const [chunk, specs] of Object.entries(expected)) {
    const onlyBuiltins = (id: string) => {
      if (!builtins.has(id.replace(/^node:/, ''))) throw new Error(`chunk ${chunk} requires ${id}`);
      return requireBuiltin(id);
    };
    const mod = { exports: {} as Record<string, any> };
    const fn = compileFunction(readFileSync(join(dir, `${chunk}.js`), 'utf8'), ['exports', 'require', 'module', '__filename', '__dirname']);
    fn(mod.exports, onlyBuiltins, mod, `/notify/chunks/${chunk}.js`, '/notify/chunks');
    for (const [spec, names] of Object.entries(specs)) {
      const m = mod.exports[spec];
      assert.ok(m, `${chunk} exports ${spec}`);
      const api = m.default && !names.every((n) => n in m) ? m.default : m;
      if (names.length === 0) assert.equal(typeof api, 'function', `${spec} is callable`);
      for (const name of names) assert.equal(typeof api[name], 'function', `${spec}.${name}`);
    }
  }
  const phone = (mod: any) => mod.parsePhoneNumberFromString('(415) 555-2671', 'US').number;
  const phoneChunk = { exports: {} as Record<string, any> };
  compileFunction(readFileSync(join(dir, 'phone.js'), 'utf8'), ['exports', 'require', 'module'])(phoneChunk.exports, requireBuiltin, phoneChunk);
  assert.equal(phone(phoneChunk.exports['libphonenumber-js']), '+14155552671', 'phone metadata is inside the chunk');
});

/** The unit's [Service] directives as key → values. */
function directives(file: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  let section = '';
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) { section = header[1]!; continue; }
    const eq = line.indexOf('=');
    const key = `${section}.${line.slice(0, eq)}`;
    map.set(key, [...(map.get(key) ?? []), line.slice(eq + 1)]);
  }
  return map;
}

test('deploy units: hardened service that drains on SIGTERM, a digest timer; systemd-analyze verify when installed', async () => {
  const d = directives(join(ROOT, 'deploy/notify.service'));
  const one = (k: string) => d.get(`Service.${k}`)?.at(-1);
  assert.equal(one('User'), 'notify');
  assert.equal(one('StateDirectory'), 'notify');
  assert.equal(one('Environment'), 'NOTIFY_HOME=/var/lib/notify');
  assert.equal(one('CacheDirectory'), 'notify');
  assert.match(one('ExecStart') ?? '', /^\/usr\/local\/bin\/notify daemon start$/);
  assert.equal(one('ProtectSystem'), 'strict');
  assert.equal(one('NoNewPrivileges'), 'yes');
  assert.equal(one('Restart'), 'on-failure');
  assert.equal(one('KillSignal'), 'SIGTERM');
  assert.equal(one('CapabilityBoundingSet'), '');
  assert.equal(d.get('Install.WantedBy')?.[0], 'multi-user.target');
  const timer = directives(join(ROOT, 'deploy/notify-digest.timer'));
  assert.equal(timer.get('Timer.Unit')?.[0], 'notify-digest.service');
  assert.ok(timer.get('Timer.OnCalendar')?.[0]);
  const digest = directives(join(ROOT, 'deploy/notify-digest.service'));
  assert.equal(digest.get('Service.Type')?.[0], 'oneshot');
  assert.equal(digest.get('Service.User')?.[0], 'notify');
  assert.match(digest.get('Service.ExecStart')?.[0] ?? '', /notify send .*--event-id/);

  // Where systemd is installed, it checks every directive too (parsing above is the check elsewhere).
  const analyze = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' }).stdout.trim();
  if (!analyze) return;
  const { exe } = await build();
  const dir = join(scratch, 'units');
  mkdirSync(dir, { recursive: true });
  const units = ['notify.service', 'notify-digest.service', 'notify-digest.timer'];
  // verify checks that ExecStart exists: point it at the executable just built.
  for (const unit of units) writeFileSync(join(dir, unit), readFileSync(join(ROOT, 'deploy', unit), 'utf8').replaceAll('/usr/local/bin/notify', exe));
  for (const unit of units) {
    const r = spawnSync(analyze, ['verify', '--man=no', join(dir, unit)], { encoding: 'utf8', cwd: dir });
    assert.equal(r.status, 0, `${unit}: ${r.stderr}`);
    // Unknown or misspelt keys are only warnings to systemd: any output fails here.
    assert.equal(r.stderr.trim(), '', `${unit}: ${r.stderr}`);
  }
});
