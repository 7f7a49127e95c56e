/**
 * Glossary
 *
 * - notification: one request to send a template to an audience (a user, a list, or a segment), from the
 *   CLI, the API or a schedule. It has an id, an optional event id (idempotency key), data and a priority.
 * - campaign: a notification whose audience is a segment; it has progress and counts.
 * - delivery: one row of the outbox — one notification to one user on one channel at one address or
 *   device. Every delivery is in the database before it is sent.
 * - attempt: one try at handing a delivery to its provider. A delivery has 0..maxAttempts attempts.
 * - channel: how a person is reached — push, sms or email.
 * - provider: what carries a channel — apns, fcm and webpush carry push; sms (Twilio) and email (SMTP).
 *   Each provider has one lane in the daemon, and may be the built-in `log` provider instead.
 * - device: an app install or browser that can receive push: ios (APNs token), android (FCM token),
 *   web (a Web Push subscription).
 * - lease: a claim on a delivery by one daemon until a time; an expired lease lets another daemon take it.
 * - category: what a notification is about (marketing, security, social, ...). Categories are
 *   transactional or marketing; preferences, caps and quiet hours follow the category.
 * - segment: a named filter over users (`country = 'KR' and has email`).
 */

export const CHANNELS = ['push', 'sms', 'email'] as const;
export type Channel = (typeof CHANNELS)[number];

export const PROVIDERS = ['apns', 'fcm', 'webpush', 'sms', 'email'] as const;
/** A lane key: one per provider slot in config (`channels.<provider>`). */
export type ProviderKey = (typeof PROVIDERS)[number];

export const PLATFORMS = ['ios', 'android', 'web'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const PLATFORM_PROVIDER: Record<Platform, ProviderKey> = { ios: 'apns', android: 'fcm', web: 'webpush' };

/** The providers that carry each channel's deliveries. */
export const CHANNEL_PROVIDERS: Record<Channel, readonly ProviderKey[]> = { push: ['apns', 'fcm', 'webpush'], sms: ['sms'], email: ['email'] };

export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];
/** Lower sorts first in claims. */
export const PRIORITY_RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };

export const DELIVERY_STATUSES = [
  'scheduled', 'queued', 'sending', 'sent', 'failed', 'dead', 'skipped', 'canceled',
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const SKIP_REASONS = [
  'opted-out', 'frequency-capped', 'no-address', 'device-inactive', 'suppressed', 'duplicate',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export interface User {
  id: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  locale: string | null;
  timezone: string | null;
  attributes: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface WebPushSubscription {
  endpoint: string;
  expirationTime?: number | null;
  keys: { p256dh: string; auth: string };
}

export interface Device {
  id: number;
  userId: string;
  platform: Platform;
  token: string;
  subscription: WebPushSubscription | null;
  active: boolean;
  deactivatedAt: string | null;
  deactivatedReason: string | null;
  createdAt: string;
  updatedAt: string;
}

/** What a template renders to on each channel; adapters turn these into provider payloads. */
export interface RenderedPush {
  title: string;
  body: string;
  /** Custom key/value data delivered to the app (string values, as FCM requires). */
  data: Record<string, string>;
  url?: string;
  sound?: string;
  badge?: number;
  collapseKey?: string;
}

export interface RenderedSms {
  body: string;
}

export interface RenderedEmail {
  subject: string;
  html?: string;
  /** Always present: derived from the HTML when the template has none. */
  text: string;
}

export type RenderedContent = RenderedPush | RenderedSms | RenderedEmail;
