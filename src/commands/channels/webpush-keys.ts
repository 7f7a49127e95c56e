import type { Command } from 'commander';
import type { Ctx } from '../../cli.js';
import type { Deps } from '../../deps.js';
import { configPath, getPath, readRawConfig, setPath, writeRawConfig } from '../../config-file.js';
import { InputError, UsageError } from '../../errors.js';
import { notice, printRecord } from '../../io.js';

export interface WebpushKeysOptions {
  /** Write the pair into config.json (channels.webpush.vapidPublicKey / vapidPrivateKey). */
  save?: boolean;
  /** With save: replace keys that are already set. */
  force?: boolean;
  /** With save: also set channels.webpush.subject (a mailto: or https: URL). */
  subject?: string;
  json?: boolean;
}

export interface WebpushKeys {
  publicKey: string;
  privateKey: string;
  /** The config file the pair was written to, when saved. */
  savedTo?: string;
}

export function register(parent: Command, ctx: Ctx): void {
  parent.command('webpush-keys')
    .description('generate a VAPID key pair for web push (printed once; --save writes it into config.json)')
    .option('--save', 'store the pair as channels.webpush.vapidPublicKey / vapidPrivateKey')
    .option('--force', 'with --save, replace keys that are already set (existing browser subscriptions stop working)')
    .option('--subject <url>', 'with --save, also set channels.webpush.subject (mailto: or https: URL)')
    .option('--json', 'print as JSON')
    .addHelpText('after', `
The public key is what browsers pass as applicationServerKey to pushManager.subscribe(); the private key
signs every push and must stay secret. Subscriptions are bound to the public key, so replacing the pair
invalidates every existing web push subscription.

Examples:
  $ notify channels webpush-keys --save --subject mailto:ops@example.com
  $ notify channels webpush-keys --json`)
    .action(ctx.action(async (deps, opts: WebpushKeysOptions) => {
      const keys = await run(opts, deps);
      printRecord(deps.io, { publicKey: keys.publicKey, privateKey: keys.privateKey, ...(keys.savedTo ? { savedTo: keys.savedTo } : {}) }, { json: opts.json, jsonValue: keys });
      if (keys.savedTo) notice(deps.io, 'Saved. Send web push with: notify config set channels.webpush.provider webpush');
      else notice(deps.io, 'Not saved: keep the private key secret, or run again with --save.');
    }));
}

export async function run(options: WebpushKeysOptions, deps: Deps): Promise<WebpushKeys> {
  if (!options.save && (options.force || options.subject !== undefined)) throw new UsageError('--force and --subject only apply with --save');
  if (options.subject !== undefined && !/^(mailto:.+@.+|https:\/\/.+)$/.test(options.subject)) {
    throw new InputError(`"${options.subject}" is not a mailto: or https: URL (for example mailto:ops@example.com)`, { field: 'subject' });
  }
  // Loaded here, not at the top: registering the verb must not load a provider SDK.
  const { default: webpush } = await import('web-push');
  const { publicKey, privateKey } = webpush.generateVAPIDKeys();
  if (!options.save) return { publicKey, privateKey };

  const raw = readRawConfig(deps.home);
  const existing = getPath(raw, ['channels', 'webpush', 'vapidPublicKey']);
  if (existing !== undefined && !options.force) {
    throw new UsageError('channels.webpush.vapidPublicKey is already set: replacing it breaks every existing browser subscription; pass --force to replace it');
  }
  setPath(raw, ['channels', 'webpush', 'vapidPublicKey'], publicKey);
  setPath(raw, ['channels', 'webpush', 'vapidPrivateKey'], privateKey);
  if (options.subject !== undefined) setPath(raw, ['channels', 'webpush', 'subject'], options.subject);
  const { parseConfig } = await import('../../config.js');
  parseConfig(raw, 'cannot save the VAPID keys');
  writeRawConfig(deps.home, raw);
  return { publicKey, privateKey, savedTo: configPath(deps.home) };
}
