/**
 * The one adapter interface every provider implements, and the one error type adapters throw.
 * An adapter never touches the outbox: the daemon decides what a DeliveryError means for the row.
 */
import type { Channel, Priority, ProviderKey, RenderedEmail, RenderedPush, RenderedSms, WebPushSubscription } from '../core/types.js';

export interface OutboundBase {
  /** The outbox row id; also the idempotency handle providers may echo. */
  deliveryId: number;
  notificationId: string;
  userId: string;
  /** 1 for the first try. */
  attempt: number;
  category: string;
  priority: Priority;
  /** Epoch ms after which the provider should drop the message (APNs expiry, FCM ttl, web push TTL). */
  expiresAt?: number;
}

export interface PushMessage extends OutboundBase {
  channel: 'push';
  provider: 'apns' | 'fcm' | 'webpush';
  /** APNs token (64 hex) or FCM registration token; the endpoint for web push. */
  to: string;
  /** Web push only. */
  subscription?: WebPushSubscription;
  content: RenderedPush;
}

export interface SmsMessage extends OutboundBase {
  channel: 'sms';
  provider: 'sms';
  /** E.164. */
  to: string;
  content: RenderedSms;
  /** Twilio StatusCallback URL, when tracking is on. */
  statusCallback?: string;
}

export interface EmailMessage extends OutboundBase {
  channel: 'email';
  provider: 'email';
  to: string;
  content: RenderedEmail;
  /** Extra headers, e.g. List-Unsubscribe and List-Unsubscribe-Post for marketing. */
  headers?: Record<string, string>;
}

export type OutboundMessage = PushMessage | SmsMessage | EmailMessage;

export interface SendResult {
  /** The provider's id for the message (apns-id, FCM message name, Twilio SID, SMTP message id). */
  providerId: string;
}

export interface ChannelAdapter {
  /** The provider's name, e.g. "apns" or "log". */
  readonly name: string;
  send(message: OutboundMessage, options: { signal?: AbortSignal }): Promise<SendResult>;
  /** Closes connections and pools. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * - retryable: try again later with backoff (5xx, timeouts, connection errors)
 * - rate-limited: try again after `retryAfterMs` (429, quota)
 * - permanent: never retry this message (rejected payload, bad credentials)
 * - invalid-address: the token or address is dead: deactivate the device or suppress the address
 */
export type DeliveryErrorKind = 'retryable' | 'rate-limited' | 'permanent' | 'invalid-address';

/**
 * What else the daemon should do about this failure, beyond the row:
 * - opt-out: the recipient opted out at the provider (Twilio 21610): record an SMS opt-out, source "provider"
 * - alert: credentials or configuration are broken: alert an operator now
 */
export type DeliveryErrorAction = 'opt-out' | 'alert';

export class DeliveryError extends Error {
  constructor(
    readonly kind: DeliveryErrorKind,
    /** The provider's own code or reason, e.g. "Unregistered", "messaging/registration-token-not-registered", "21211", "550". */
    readonly code: string,
    message: string,
    readonly options: { retryAfterMs?: number; action?: DeliveryErrorAction; status?: number } = {},
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
  get retryAfterMs(): number | undefined {
    return this.options.retryAfterMs;
  }
  get action(): DeliveryErrorAction | undefined {
    return this.options.action;
  }
}

/** What adapter factories receive. Config is the provider's own `channels.<provider>` object. */
export interface AdapterContext {
  /** The notify home (credential paths are relative to it). */
  home: string;
  /** Called for operator-facing warnings; never given secrets. */
  warn(message: string): void;
}
