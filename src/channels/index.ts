/**
 * Which adapter carries each provider: the built-in `log` provider, or the real one, loaded lazily so
 * only configured SDKs are ever imported.
 */
import type { Config } from '../config.js';
import type { ProviderKey } from '../core/types.js';
import { LogAdapter } from './log.js';
import type { AdapterContext, ChannelAdapter } from './types.js';

/** Sensible lane settings from the providers' published limits, when config sets none. */
export const LANE_DEFAULTS: Record<ProviderKey, { concurrency: number; rateLimit?: number }> = {
  apns: { concurrency: 200 },
  fcm: { concurrency: 100, rateLimit: 10_000 },
  webpush: { concurrency: 100 },
  sms: { concurrency: 50, rateLimit: 100 },
  email: { concurrency: 20, rateLimit: 500 },
};

/** The log provider has no network to wait on: a deep lane keeps it busy. */
export const LOG_LANE = { concurrency: 1000 };

export function providerName(config: Config, provider: ProviderKey): string {
  return config.channels[provider].provider;
}

export async function createAdapter(provider: ProviderKey, config: Config, ctx: AdapterContext): Promise<ChannelAdapter> {
  const c = config.channels[provider];
  if (c.provider === 'log') return new LogAdapter(ctx.home, provider, c.logFail ?? []);
  switch (provider) {
    case 'apns': return (await import('./apns.js')).createApnsAdapter(config.channels.apns, ctx);
    case 'fcm': return (await import('./fcm.js')).createFcmAdapter(config.channels.fcm, ctx);
    case 'webpush': return (await import('./webpush.js')).createWebPushAdapter(config.channels.webpush, ctx);
    case 'sms': return (await import('./twilio.js')).createTwilioAdapter(config.channels.sms, ctx);
    case 'email': return (await import('./smtp.js')).createSmtpAdapter(config.channels.email, ctx);
  }
}

/** Lane settings: config first, then the provider's defaults. */
export function laneSettings(config: Config, provider: ProviderKey): { concurrency: number; rateLimit?: number } {
  const c = config.channels[provider];
  const base = c.provider === 'log' ? { ...LOG_LANE, rateLimit: undefined } : LANE_DEFAULTS[provider];
  return { concurrency: c.concurrency ?? base.concurrency, rateLimit: c.rateLimit ?? base.rateLimit };
}
