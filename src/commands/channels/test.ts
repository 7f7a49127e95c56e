/**
 * `notify channels test`: one real notification now, through the configured adapter (not the daemon,
 * not the outbox), and the provider's answer printed — to prove credentials and payloads end to end.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { CHANNELS, PLATFORM_PROVIDER, type Channel, type ProviderKey, type RenderedContent } from '../../core/types.js';
import type { TemplateDef } from '../../core/template.js';
import type { DeliveryErrorAction, DeliveryErrorKind, OutboundMessage } from '../../channels/types.js';
import { InputError, NotifyError, UsageError } from '../../errors.js';
import { collect, parsePairs } from '../shared.js';

export interface ChannelTestOptions {
  /** push, sms or email. */
  channel: string;
  /** The user to send to (push: each of their active devices). */
  user: string;
  /** A stored template instead of the built-in test message. */
  template?: string;
  /** `key=value` data for the template. */
  data?: string[];
  /** Give up on a provider answer after this many ms. Default 30000. */
  timeoutMs?: number;
  json?: boolean;
}

export interface ChannelTestSend {
  provider: ProviderKey;
  /** The adapter that carried it: "apns", "twilio", …, or "log". */
  adapter: string;
  to: string;
  deviceId?: number;
  ok: boolean;
  providerId?: string;
  error?: { kind: DeliveryErrorKind; code: string; message: string; action?: DeliveryErrorAction };
}

export interface ChannelTestResult {
  channel: Channel;
  userId: string;
  /** The template name, or "(built-in test)". */
  template: string;
  content: RenderedContent;
  sends: ChannelTestSend[];
}

/** Exit 1 after printing when a provider refused. */
export class ChannelTestFailedError extends NotifyError {}

/** What `notify channels test` sends without --template. */
export const BUILTIN_TEST_TEMPLATE: TemplateDef = {
  category: 'transactional',
  push: {
    title: 'notify test',
    body: 'Test notification for {{ user.id }} from {{ data.host }} at {{ data.at }}',
    data: { notify_test: '1' },
  },
  sms: { body: 'notify test message for {{ user.id }} ({{ data.at }})' },
  email: {
    subject: 'notify test message',
    html: '<p>This is a test message from notify on {{ data.host }} for {{ user.id }}, sent at {{ data.at }}.</p>',
    text: 'This is a test message from notify on {{ data.host }} for {{ user.id }}, sent at {{ data.at }}.',
  },
};

export function register(parent: Command, ctx: Ctx): void {
  parent.command('test')
    .description('send one real notification now through the configured provider and print its answer')
    .requiredOption('--channel <channel>', 'push, sms or email')
    .requiredOption('--user <id>', 'the user to send to (push goes to each of their active devices)')
    .option('--template <name>', 'send this template instead of the built-in test message')
    .option('-d, --data <key=value>', 'template data (repeatable); values are JSON when they parse', collect, [])
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `
The message goes straight to the provider through the same adapter the daemon uses — not through the
outbox, so it is not retried, counted or logged as a delivery. Preferences and suppressions are not
applied: this is an operator's test. Exit 1 when a provider refuses.

Examples:
  $ notify channels test --channel email --user u1
  $ notify channels test --channel push --user u1 --template order-shipped --data order=A-1001
  $ notify channels test --channel sms --user u1 --json`)
    .action(ctx.action(async (deps, opts: Omit<ChannelTestOptions, 'timeoutMs'>) => {
      const result = await run(opts, deps);
      print(deps, result, opts.json);
      const failed = result.sends.filter((s) => !s.ok).length;
      if (failed) throw new ChannelTestFailedError(`${failed} of ${result.sends.length} test send${result.sends.length === 1 ? '' : 's'} failed`);
    }));
}

export async function run(options: ChannelTestOptions, deps: Deps): Promise<ChannelTestResult> {
  if (!(CHANNELS as readonly string[]).includes(options.channel)) throw new UsageError(`--channel must be push, sms or email, not "${options.channel}"`);
  const channel = options.channel as Channel;
  const [config, store, { compileTemplate, renderContext }, { createAdapter }] = await Promise.all([
    deps.config(), deps.store(), import('../../core/render.js'), import('../../channels/index.js'),
  ]);
  const user = await store.users.require(options.user);
  const def = options.template !== undefined ? (await store.templates.require(options.template)).def : BUILTIN_TEST_TEMPLATE;
  const compiled = compileTemplate(def);
  const locale = user.locale ?? config.defaults.locale;
  if (!compiled.has(channel, locale)) {
    throw new InputError(`template "${options.template}" has no ${channel} part: choose another --channel or template`, { field: 'channel' });
  }
  const data = { host: hostname(), at: new Date(deps.clock.now()).toISOString(), ...parsePairs(options.data ?? [], '--data') };
  const content = compiled.render(channel, renderContext(user, data), locale);

  const notificationId = `test-${randomUUID()}`;
  const base = { deliveryId: 0, notificationId, userId: user.id, attempt: 1, category: def.category, priority: 'high' as const };
  const targets: { provider: ProviderKey; message: OutboundMessage; deviceId?: number }[] = [];
  if (channel === 'push') {
    const devices = await store.devices.listForUser(user.id);
    if (devices.length === 0) throw new InputError(`user "${user.id}" has no active devices: add one with "notify devices add"`, { field: 'user' });
    for (const d of devices) {
      const provider = PLATFORM_PROVIDER[d.platform] as 'apns' | 'fcm' | 'webpush';
      targets.push({
        provider, deviceId: d.id,
        message: { ...base, channel: 'push', provider, to: d.token, ...(d.subscription ? { subscription: d.subscription } : {}), content: content as never },
      });
    }
  } else if (channel === 'sms') {
    if (!user.phone) throw new InputError(`user "${user.id}" has no phone number: notify users update ${user.id} --phone +14155550100`, { field: 'user' });
    targets.push({ provider: 'sms', message: { ...base, channel: 'sms', provider: 'sms', to: user.phone, content: content as never } });
  } else {
    if (!user.email) throw new InputError(`user "${user.id}" has no email address: notify users update ${user.id} --email you@example.com`, { field: 'user' });
    targets.push({ provider: 'email', message: { ...base, channel: 'email', provider: 'email', to: user.email, content: content as never } });
  }

  const { DeliveryError } = await import('../../channels/types.js');
  const adapters = new Map<ProviderKey, Awaited<ReturnType<typeof createAdapter>>>();
  const sends: ChannelTestSend[] = [];
  try {
    for (const target of targets) {
      let adapter = adapters.get(target.provider);
      if (!adapter) {
        adapter = await createAdapter(target.provider, config, { home: deps.home, warn: (m) => deps.io.stderr.write(`warning: ${m}\n`) });
        adapters.set(target.provider, adapter);
      }
      const send: ChannelTestSend = { provider: target.provider, adapter: adapter.name, to: target.message.to, ok: false };
      if (target.deviceId !== undefined) send.deviceId = target.deviceId;
      try {
        const { providerId } = await adapter.send(target.message, { signal: AbortSignal.timeout(options.timeoutMs ?? 30_000) });
        send.ok = true;
        send.providerId = providerId;
      } catch (err) {
        const e = err instanceof DeliveryError ? err : new DeliveryError('retryable', (err as { code?: string }).code ?? 'ERROR', (err as Error).message ?? String(err));
        send.error = { kind: e.kind, code: e.code, message: e.message, ...(e.action ? { action: e.action } : {}) };
      }
      sends.push(send);
    }
  } finally {
    for (const adapter of adapters.values()) await adapter.close().catch(() => undefined);
  }
  return { channel, userId: user.id, template: options.template ?? '(built-in test)', content, sends };
}

function print(deps: Deps, result: ChannelTestResult, json: boolean | undefined): void {
  const { io } = deps;
  if (json) {
    io.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return;
  }
  for (const s of result.sends) {
    const via = s.adapter === 'log' ? 'log provider (written to a file, not sent)' : s.adapter;
    const answer = s.ok ? `ok ${s.providerId}` : `failed ${s.error!.kind} ${s.error!.code}: ${s.error!.message}${s.error!.action ? ` (${s.error!.action})` : ''}`;
    io.stdout.write(io.isTTY
      ? `${s.provider.padEnd(7)}  ${via}  ${s.to}  ${answer}\n`
      : `${s.provider}\t${s.adapter}\t${s.to}\t${s.ok ? 'ok' : 'failed'}\t${s.ok ? s.providerId : `${s.error!.kind}\t${s.error!.code}\t${s.error!.message}`}\n`);
  }
}
