/**
 * Channel throughput: per provider, a real `notify daemon start` process drains N deliveries through the
 * real SDK against the provider's loopback emulator (each in a process of its own, recording off where it
 * can be), beside a bare loop of the same adapter's send() with the same concurrency in another process against
 * the same emulator. Then a mixed run with every lane busy at once, extrapolated to the design day
 * (10M push, 5M email, 1M SMS).
 *
 * The daemon, the bare loop and each emulator run in child processes, so the emulators are the same load
 * for both, and in the mixed run no emulator waits behind another's event loop. Lane concurrency is the registry's default per
 * provider; rate limits are lifted (the defaults cap SMS at 100/s and email at 500/s, below the floors
 * measured here) — `config` in the metrics says what was used.
 *
 *   NOTIFY_BENCH_CHANNEL_N     deliveries per provider run (default 20,000 push, 10,000 sms/email)
 *   NOTIFY_BENCH_MIXED_SCALE   mixed run size as a multiple of 1,000 (default 3: 30k push, 15k email, 3k sms;
 *                              100 makes the issue's ~10-minute run, with NOTIFY_BENCH_RUN_LIMIT_S=1500)
 *   NOTIFY_BENCH_SENDER_THREAD on|off: `daemon.senderThread` (default: the daemon's own, on with 2+ cores)
 *   NOTIFY_BENCH_CHANNELS      the runs to make, comma-separated: providers and/or `mixed` (default all)
 *   NOTIFY_BENCH_CPU_PROF      a directory: the daemons write V8 CPU profiles there (node --cpu-prof)
 *   NOTIFY_BENCH_DAEMON_FLAGS  node flags for the daemon processes only, space-separated (e.g. --trace-gc)
 */
import { fork } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import webpush from 'web-push';
import { loadConfig, type Config } from '../src/config.js';
import { LANE_DEFAULTS } from '../src/channels/index.js';
import type { OutboundMessage } from '../src/channels/types.js';
import type { ProviderKey } from '../src/core/types.js';
import { validateTemplate } from '../src/core/template.js';
import { systemClock } from '../src/core/time.js';
import { readStatus } from '../src/daemon/client.js';
import type { DeviceInput } from '../src/store/devices.js';
import { startApnsEmulator } from '../test/emulators/apns.js';
import { startFcmEmulator } from '../test/emulators/fcm.js';
import { startSmtpEmulator } from '../test/emulators/smtp.js';
import { startTwilioEmulator } from '../test/emulators/twilio.js';
import { startWebPushEmulator, type SubscriptionJSON } from '../test/emulators/webpush.js';
import { BIN, ROOT, atLeast, cpuMicros, initHome, openHomeStore, round, sampleRss, spawnNode, tempDir, waitExit, type Metrics, type Target } from './common.js';

export const name = 'channels';

const CA = join(ROOT, 'test', 'fixtures', 'tls', 'ca.pem');
/** The emulators' certificates chain to the test CA; children trust it the way operators trust a private CA. */
const ENV = { ...process.env, NODE_EXTRA_CA_CERTS: CA };
const PUSH_N = Number(process.env.NOTIFY_BENCH_CHANNEL_N ?? 20_000);
const SLOW_N = Number(process.env.NOTIFY_BENCH_CHANNEL_N ?? 10_000);
const MIXED_SCALE = Number(process.env.NOTIFY_BENCH_MIXED_SCALE ?? 3);
const SENDER_THREAD = process.env.NOTIFY_BENCH_SENDER_THREAD;
const DAEMON_CONFIG = { 'daemon.pollMs': 50, ...(SENDER_THREAD ? { 'daemon.senderThread': SENDER_THREAD === 'on' } : {}) };
/** A run that has not finished by then is stopped and reported as such (NOTIFY_BENCH_RUN_LIMIT_S, default 120). */
const RUN_LIMIT_MS = Number(process.env.NOTIFY_BENCH_RUN_LIMIT_S ?? 120) * 1000;
const RUNS = new Set((process.env.NOTIFY_BENCH_CHANNELS ?? 'apns,fcm,webpush,sms,email,mixed').split(',').map((s) => s.trim()));
const FLOORS: Record<ProviderKey, number> = { apns: 5000, fcm: 2000, webpush: 2000, email: 1000, sms: 1000 };
const DESIGN_DAY = { push: 10_000_000, email: 5_000_000, sms: 1_000_000 };

export const targets: Record<string, Target> = {
  ...Object.fromEntries(Object.entries(FLOORS).map(([p, floor]) => [`${p}DaemonPerSec`, atLeast(floor, '/s')])),
  ...Object.fromEntries(Object.keys(FLOORS).map((p) => [`${p}Ratio`, atLeast(0.8)])),
};

interface Emulators {
  config: Record<string, unknown>;
  /** The emulator's process, when it runs in one of its own. */
  pid?: number;
  /** New web push subscriptions (none for other providers). */
  subscriptions(n: number): Promise<SubscriptionJSON[]>;
  close(): Promise<void>;
}

/** Starts the provider's emulator and returns the home config that points the real provider at it. */
async function emulatorFor(provider: ProviderKey, vapid: { publicKey: string; privateKey: string }): Promise<Emulators> {
  const lane = { rateLimit: 1_000_000 };
  switch (provider) {
    case 'apns': {
      const e = await startApnsEmulator({ record: false });
      return { config: { 'channels.apns': { provider: 'apns', keyFile: e.keyPath, keyId: e.keyId, teamId: e.teamId, topic: e.topic, endpoint: e.url, ...lane } }, subscriptions: async () => [], close: () => e.close() };
    }
    case 'fcm': {
      const e = await startFcmEmulator({ record: false });
      return { config: { 'channels.fcm': { provider: 'fcm', serviceAccountFile: e.serviceAccountPath, endpoint: e.url, ...lane } }, subscriptions: async () => [], close: () => e.close() };
    }
    case 'webpush': {
      // Not decrypted, as by a real push service: only the browser holds the subscription's keys.
      const e = await startWebPushEmulator({ applicationServerKey: vapid.publicKey, record: false });
      return {
        config: { 'channels.webpush': { provider: 'webpush', vapidPublicKey: vapid.publicKey, vapidPrivateKey: vapid.privateKey, subject: 'mailto:bench@example.com', ...lane } },
        subscriptions: async (n) => Array.from({ length: n }, () => e.createSubscription()),
        close: () => e.close(),
      };
    }
    case 'sms': {
      const e = await startTwilioEmulator();
      // Its records are kept; drop them as they come so memory stays flat.
      const drop = setInterval(() => { e.received.length = 0; }, 1000);
      return {
        config: { 'channels.sms': { provider: 'twilio', accountSid: e.accountSid, authToken: e.authToken, from: '+15005550006', endpoint: e.url, ...lane } },
        subscriptions: async () => [],
        close: () => (clearInterval(drop), e.close()),
      };
    }
    case 'email': {
      // Read to the end of DATA and counted, not parsed, as a relay queues a message.
      const e = await startSmtpEmulator({ record: false });
      return {
        config: { 'channels.email': { provider: 'smtp', smtpUrl: e.smtpUrl, from: 'Bench <bench@example.com>', ...lane } },
        subscriptions: async () => [],
        close: () => e.close(),
      };
    }
  }
}

type ToEmulator = { type: 'subscriptions'; n: number } | { type: 'close' };
type FromEmulator = { type: 'config'; config: Record<string, unknown> } | { type: 'subscriptions'; list: SubscriptionJSON[] } | { type: 'closed' };

/**
 * The emulator in a process of its own (this file run with --emulator), as each provider is its own
 * service: sharing one event loop, an SMTP session's several round trips each waited behind the push
 * emulators' batches (the 48,000-delivery mixed run took 16-25 s with them together, 12-14 s apart).
 */
async function remoteEmulator(provider: ProviderKey, vapid: { publicKey: string; privateKey: string }): Promise<Emulators> {
  const child = fork(fileURLToPath(import.meta.url), ['--emulator', provider, JSON.stringify(vapid)], { env: ENV, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <T extends FromEmulator['type']>(type: T) => new Promise<Extract<FromEmulator, { type: T }>>((resolve, reject) => {
    const onMessage = (m: FromEmulator) => {
      if (m.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m as Extract<FromEmulator, { type: T }>);
    };
    const onExit = (code: number | null) => reject(new Error(`the ${provider} emulator process exited (${code})`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
  const send = (m: ToEmulator) => child.send(m);
  const { config } = await next('config');
  return {
    config,
    pid: child.pid,
    async subscriptions(n) {
      const out: SubscriptionJSON[] = [];
      for (let done = 0; done < n; done += 10_000) {
        const reply = next('subscriptions');
        send({ type: 'subscriptions', n: Math.min(10_000, n - done) });
        out.push(...(await reply).list);
      }
      return out;
    },
    async close() {
      if (child.exitCode !== null) return;
      const closed = next('closed').catch(() => undefined);
      send({ type: 'close' });
      await closed;
      await waitExit(child, 10_000);
    },
  };
}

async function emulatorMain(provider: ProviderKey, vapid: { publicKey: string; privateKey: string }): Promise<void> {
  const emu = await emulatorFor(provider, vapid);
  const send = (m: FromEmulator) => process.send!(m);
  // The benchmark was stopped (or died) without closing us: nothing will ask again.
  const orphaned = () => void emu.close().finally(() => process.exit(0));
  process.once('disconnect', orphaned);
  process.on('message', (m: ToEmulator) => {
    if (m.type === 'subscriptions') void emu.subscriptions(m.n).then((list) => send({ type: 'subscriptions', list }));
    else if (m.type === 'close') {
      process.off('disconnect', orphaned);
      void emu.close().then(() => { send({ type: 'closed' }); process.disconnect(); });
    }
  });
  send({ type: 'config', config: emu.config });
}

const TEMPLATE = {
  category: 'transactional',
  push: { title: 'Order {{ data.order }}', body: 'Hi {{ user.name }}, your order shipped', data: { order: '{{ data.order }}' }, url: 'https://app.example.com/o/{{ data.order }}', collapseKey: 'order' },
  sms: { body: 'Hi {{ user.name }}: order {{ data.order }} shipped' },
  email: { subject: 'Order {{ data.order }} shipped', html: '<p>Hi {{ user.name }}, order <b>{{ data.order }}</b> shipped.</p>' },
};

interface Seeded { home: string; counts: Record<ProviderKey, number> }

/**
 * A home with users and devices so that one `shipped` notification to segment `all` makes `counts`
 * deliveries per provider, and that notification submitted.
 */
async function seedHome(config: Record<string, unknown>, counts: Partial<Record<ProviderKey, number>>, subscriptions: SubscriptionJSON[]): Promise<Seeded> {
  const home = await initHome('channels', { ...DAEMON_CONFIG, ...config });
  const store = await openHomeStore(home);
  const users = Math.max(...Object.values(counts).map((n) => n ?? 0));
  try {
    for (let start = 0; start < users; start += 10_000) {
      const batch = [];
      const devices: DeviceInput[] = [];
      for (let i = start; i < Math.min(users, start + 10_000); i++) {
        const id = `b${String(i).padStart(7, '0')}`;
        batch.push({ id, name: `User ${i}`, email: i < (counts.email ?? 0) ? `${id}@example.com` : null, phone: i < (counts.sms ?? 0) ? `+1415${String(i).padStart(7, '0')}` : null });
        if (i < (counts.apns ?? 0)) devices.push({ userId: id, platform: 'ios', token: randomBytes(32).toString('hex') });
        if (i < (counts.fcm ?? 0)) devices.push({ userId: id, platform: 'android', token: `fcm-${id}-${randomBytes(8).toString('hex')}` });
        if (i < (counts.webpush ?? 0)) devices.push({ userId: id, platform: 'web', subscription: subscriptions[i]! });
      }
      await store.users.upsertMany(batch);
      if (devices.length) await store.devices.registerMany(devices);
    }
    const cfg = loadConfig(home);
    await store.templates.create('shipped', validateTemplate(TEMPLATE, cfg));
    const { submit } = await import('../src/submit.js');
    await submit({ template: 'shipped', segment: 'all', data: { order: 'A-1001' }, source: 'bench' }, store, cfg, systemClock);
    const rows = store.db.prepare("SELECT provider, count(*) AS n FROM deliveries WHERE status = 'queued' GROUP BY provider").all() as { provider: ProviderKey; n: number }[];
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    return { home, counts: Object.fromEntries(rows.map((r) => [r.provider, r.n])) as Record<ProviderKey, number> };
  } finally {
    await store.close();
  }
}

interface DaemonRun {
  /** Per provider: deliveries sent and the steady rate (between first and last sent_at). */
  lanes: Partial<Record<ProviderKey, { sent: number; perSec: number; spanS: number }>>;
  /** From the daemon's readiness to the last delivery final. */
  wallS: number;
  /** The daemon process's CPU time (every thread, user + system) over the drain, in ms. */
  cpuMs: number;
  /** The daemon's peak RSS over the drain. */
  peakRssMb: number;
  /** The CPU time of the processes drainWithDaemon was asked to watch (the emulators), over the drain, in ms. */
  watchedCpuMs: number;
  finished: boolean;
  failed: number;
}

async function drainWithDaemon(home: string, total: number, watch: number[] = []): Promise<DaemonRun> {
  const out = join(tempDir('channels-daemon'), 'daemon.out');
  const fd = openSync(out, 'a');
  const profile = process.env.NOTIFY_BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.NOTIFY_BENCH_CPU_PROF}`] : [];
  const flags = (process.env.NOTIFY_BENCH_DAEMON_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawnNode([...profile, ...flags, BIN, '--home', home, 'daemon', 'start', '--log-level', 'warn'], { stdout: fd, env: ENV });
  closeSync(fd);
  for (let i = 0; i < 400 && !(await readStatus(home, 200)); i++) {
    if (child.exitCode !== null) throw new Error(`the daemon exited: ${readFileSync(out, 'utf8').slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  const t0 = performance.now();
  const cpu0 = processCpuMs(child.pid!);
  const watched = () => watch.reduce((sum, pid) => sum + processCpuMs(pid), 0);
  const watched0 = watched();
  const rss = sampleRss(child.pid!);
  const store = await openHomeStore(home);
  let finished = false;
  try {
    // An index probe, not a count: the emulators share this thread, and counting a large outbox every
    // 100 ms held their event loop for much of each interval at 1.6M rows (SMTP, with several round trips per
    // message, starved). `total` rows were written before the daemon started.
    const unfinished = store.db.prepare("SELECT EXISTS (SELECT 1 FROM deliveries WHERE status IN ('queued', 'failed', 'scheduled', 'sending'))").pluck();
    while (performance.now() - t0 < RUN_LIMIT_MS) {
      if (total > 0 && !unfinished.get()) {
        finished = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const wallS = (performance.now() - t0) / 1000;
    const cpuMs = processCpuMs(child.pid!) - cpu0;
    const watchedCpuMs = watched() - watched0;
    const { peakMb: peakRssMb } = rss.stop();
    await waitExit((child.kill('SIGTERM'), child), 30_000);
    const lanes: DaemonRun['lanes'] = {};
    const rows = store.db.prepare("SELECT provider, count(*) AS n, min(sent_at) AS first, max(sent_at) AS last FROM deliveries WHERE status = 'sent' GROUP BY provider").all() as { provider: ProviderKey; n: number; first: number; last: number }[];
    for (const r of rows) {
      const span = Math.max(1, r.last - r.first) / 1000;
      lanes[r.provider] = { sent: r.n, perSec: Math.round((r.n - 1) / span), spanS: round(span, 2) };
    }
    const failed = store.db.prepare("SELECT count(*) FROM deliveries WHERE status NOT IN ('sent', 'skipped')").pluck().get() as number;
    return { lanes, wallS: round(wallS, 2), cpuMs, peakRssMb, watchedCpuMs, finished, failed };
  } finally {
    rss.stop();
    await store.close();
  }
}

/** A process's CPU time so far, every thread, user + system (Linux /proc; clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  // Fields after the command name's closing parenthesis: utime and stime are the 12th and 13th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The adapter's send() in a loop with `concurrency` in flight, in a child process (this file run with --bare). */
async function bareLoop(home: string, provider: ProviderKey, n: number, concurrency: number, subscriptions: SubscriptionJSON[]): Promise<{ perSec: number; cpuUs: number; failed: number }> {
  const spec = join(tempDir('channels-bare'), 'spec.json');
  writeFileSync(spec, JSON.stringify({ home, provider, n, concurrency, subscriptions }));
  const child = spawnNode([fileURLToPath(import.meta.url), '--bare', spec], { stdout: 'pipe', env: ENV });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c));
  const code = await waitExit(child, RUN_LIMIT_MS);
  if (code !== 0) throw new Error(`bare loop for ${provider} exited ${code}: ${output.slice(-1000)}`);
  return JSON.parse(output.trim().split('\n').at(-1)!) as { perSec: number; cpuUs: number; failed: number };
}

async function bareMain(specFile: string): Promise<void> {
  const spec = JSON.parse(readFileSync(specFile, 'utf8')) as { home: string; provider: ProviderKey; n: number; concurrency: number; subscriptions: SubscriptionJSON[] };
  const config: Config = loadConfig(spec.home);
  const { createAdapter } = await import('../src/channels/index.js');
  const adapter = await createAdapter(spec.provider, config, { home: spec.home, warn: () => undefined });
  const message = (i: number): OutboundMessage => {
    const base = { deliveryId: i + 1, notificationId: 'bench', userId: `b${i}`, attempt: 1, category: 'transactional', priority: 'high' as const };
    const push = { title: 'Order A-1001', body: `Hi User ${i}, your order shipped`, data: { order: 'A-1001' }, url: 'https://app.example.com/o/A-1001', collapseKey: 'order' };
    switch (spec.provider) {
      case 'apns': return { ...base, channel: 'push', provider: 'apns', to: randomBytes(32).toString('hex'), content: push };
      case 'fcm': return { ...base, channel: 'push', provider: 'fcm', to: `fcm-bare-${i}`, content: push };
      case 'webpush': {
        const s = spec.subscriptions[i % spec.subscriptions.length]!;
        return { ...base, channel: 'push', provider: 'webpush', to: s.endpoint, subscription: s, content: push };
      }
      case 'sms': return { ...base, channel: 'sms', provider: 'sms', to: `+1415${String(i).padStart(7, '0')}`, content: { body: `Hi User ${i}: order A-1001 shipped` } };
      case 'email': return { ...base, channel: 'email', provider: 'email', to: `b${i}@example.com`, content: { subject: 'Order A-1001 shipped', text: `Hi User ${i}, order A-1001 shipped.`, html: `<p>Hi User ${i}, order <b>A-1001</b> shipped.</p>` } };
    }
  };
  // Warm the connection (and FCM's token) as the daemon's first sends do; not timed.
  await adapter.send(message(spec.n), {}).catch(() => undefined);
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: spec.concurrency }, async () => {
    while (next < spec.n) {
      const i = next++;
      try {
        await adapter.send(message(i), { signal: AbortSignal.timeout(30_000) });
      } catch {
        failed++;
      }
    }
  }));
  const s = (performance.now() - t0) / 1000;
  const cpuUs = cpuMicros(process.cpuUsage(cpu0));
  await adapter.close();
  process.stdout.write(JSON.stringify({ perSec: Math.round(spec.n / s), cpuUs: Math.round(cpuUs / spec.n), failed }) + '\n');
}

export async function run(): Promise<Metrics> {
  const vapid = webpush.generateVAPIDKeys();
  const metrics: Metrics = {};
  const providers: ProviderKey[] = ['apns', 'fcm', 'webpush', 'sms', 'email'];
  metrics.config = `lane concurrency ${providers.map((p) => `${p} ${LANE_DEFAULTS[p].concurrency}`).join(', ')}; rate limits lifted; email pool = its concurrency; sender threads ${SENDER_THREAD ?? 'default'}`;
  for (const provider of providers.filter((p) => RUNS.has(p))) {
    const n = provider === 'sms' || provider === 'email' ? SLOW_N : PUSH_N;
    const emu = await remoteEmulator(provider, vapid);
    try {
      const subscriptions = await emu.subscriptions(provider === 'webpush' ? n : 0);
      const seeded = await seedHome(emu.config, { [provider]: n }, subscriptions);
      const total = seeded.counts[provider] ?? 0;
      const daemon = await drainWithDaemon(seeded.home, total, emu.pid ? [emu.pid] : []);
      const bare = await bareLoop(seeded.home, provider, n, LANE_DEFAULTS[provider].concurrency, subscriptions.slice(0, 1000));
      const lane = daemon.lanes[provider];
      metrics[`${provider}N`] = total;
      metrics[`${provider}DaemonPerSec`] = lane?.perSec ?? 0;
      metrics[`${provider}BarePerSec`] = bare.perSec;
      metrics[`${provider}Ratio`] = round((lane?.perSec ?? 0) / bare.perSec, 2);
      // CPU per delivery moves less with the machine's neighbours than rates do.
      metrics[`${provider}DaemonCpuUs`] = Math.round((daemon.cpuMs * 1000) / Math.max(1, lane?.sent ?? 0));
      metrics[`${provider}BareCpuUs`] = bare.cpuUs;
      metrics[`${provider}EmulatorCpuUs`] = Math.round((daemon.watchedCpuMs * 1000) / Math.max(1, lane?.sent ?? 0));
      if (!daemon.finished || daemon.failed || bare.failed) {
        metrics[`${provider}Note`] = `daemon ${daemon.finished ? 'finished' : 'did not finish'}, ${daemon.failed} not sent; bare ${bare.failed} failed`;
      }
    } finally {
      await emu.close();
    }
  }

  // Mixed: every lane at once, in the design day's proportions (10 push : 5 email : 1 sms).
  if (!RUNS.has('mixed')) return metrics;
  const emus = await Promise.all(providers.map((p) => remoteEmulator(p, vapid)));
  try {
    const k = MIXED_SCALE * 1000;
    const counts = { apns: Math.round(10 * k / 3), fcm: Math.round(10 * k / 3), webpush: Math.round(10 * k / 3), email: 5 * k, sms: k };
    const seeded = await seedHome(Object.assign({}, ...emus.map((e) => e.config)), counts, await emus[2]!.subscriptions(counts.webpush));
    const total = Object.values(seeded.counts).reduce((a, b) => a + b, 0);
    const daemon = await drainWithDaemon(seeded.home, total, emus.flatMap((e) => (e.pid ? [e.pid] : [])));
    const push = (seeded.counts.apns ?? 0) + (seeded.counts.fcm ?? 0) + (seeded.counts.webpush ?? 0);
    const factor = Math.max(DESIGN_DAY.push / push, DESIGN_DAY.email / (seeded.counts.email ?? 1), DESIGN_DAY.sms / (seeded.counts.sms ?? 1));
    metrics.mixedDeliveries = total;
    metrics.mixedSeconds = daemon.wallS;
    metrics.mixedPerSec = Math.round(total / daemon.wallS);
    metrics.mixedDaemonCpuUs = Math.round((daemon.cpuMs * 1000) / Math.max(1, total));
    metrics.mixedEmulatorsCpuUs = Math.round((daemon.watchedCpuMs * 1000) / Math.max(1, total));
    metrics.mixedDaemonPeakRssMb = daemon.peakRssMb;
    for (const p of providers) metrics[`mixed${p[0]!.toUpperCase()}${p.slice(1)}PerSec`] = daemon.lanes[p]?.perSec ?? 0;
    metrics.designDayHours = round((daemon.wallS * factor) / 3600, 2);
    // The daemon's own CPU for the whole day, in core-hours: over the machine's cores, the least time
    // the day could take here even if the providers cost nothing.
    metrics.designDayDaemonCoreHours = round((daemon.cpuMs * factor) / 3_600_000, 2);
    if (!daemon.finished || daemon.failed) metrics.mixedNote = `daemon ${daemon.finished ? 'finished' : 'did not finish'}, ${daemon.failed} not sent`;
  } finally {
    await Promise.all(emus.map((e) => e.close()));
  }
  return metrics;
}

if (process.argv[2] === '--emulator' && process.argv[3] && process.argv[4]) {
  emulatorMain(process.argv[3] as ProviderKey, JSON.parse(process.argv[4]) as { publicKey: string; privateKey: string }).catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}

if (process.argv[2] === '--bare' && process.argv[3]) {
  bareMain(process.argv[3]).catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
